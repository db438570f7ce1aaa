"""Registers the ``openai`` driver and its presets for OpenAI-compatible providers with
janito-core (imports no SDK)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from janito_core.hookspecs import DriverRegistrar, hookimpl

TARGET = "janito_driver_openai.driver:OpenAIDriver"

#: name -> (description, preset). Each base URL is the provider's public one, as its docs give
#: it; ``price_provider`` is the provider's id in the genai-prices table, where it has one.
PRESETS: Mapping[str, tuple[str, Mapping[str, Any]]] = {
    "deepseek": (
        "DeepSeek (OpenAI-compatible Chat Completions)",
        {
            "base_url": "https://api.deepseek.com",
            "api_key_env": ("DEEPSEEK_API_KEY",),
            "default_model": "deepseek-v4-flash",
            "price_provider": "deepseek",
            # Thinking with tools: the reasoning of a tool loop must come back (else 400).
            "quirks": ("reasoning_content",),
        },
    ),
    "groq": (
        "Groq (OpenAI-compatible Chat Completions)",
        {
            "base_url": "https://api.groq.com/openai/v1",
            "api_key_env": ("GROQ_API_KEY",),
            "default_model": "llama-3.3-70b-versatile",
            "price_provider": "groq",
        },
    ),
    "openrouter": (
        "OpenRouter (OpenAI-compatible Chat Completions, many providers' models)",
        {
            "base_url": "https://openrouter.ai/api/v1",
            "api_key_env": ("OPENROUTER_API_KEY",),
            "default_model": "openai/gpt-4o-mini",
            "price_provider": "openrouter",
        },
    ),
    "together": (
        "Together AI (OpenAI-compatible Chat Completions)",
        {
            "base_url": "https://api.together.ai/v1",
            "api_key_env": ("TOGETHER_API_KEY",),
            "default_model": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "price_provider": "together",
        },
    ),
    "xai": (
        "xAI Grok (OpenAI-compatible Chat Completions)",
        {
            "base_url": "https://api.x.ai/v1",
            "api_key_env": ("XAI_API_KEY",),
            "default_model": "grok-4",
            "price_provider": "x-ai",
        },
    ),
    "ollama": (
        "Ollama's OpenAI-compatible server (local, no key)",
        {
            "base_url": "http://localhost:11434/v1",
            "api_key_env": ("OLLAMA_API_KEY",),
            "requires_api_key": False,
            "default_model": "llama3.2",
        },
    ),
    "vllm": (
        "vLLM's OpenAI-compatible server (local, no key; pass the served model)",
        {
            "base_url": "http://localhost:8000/v1",
            "api_key_env": ("VLLM_API_KEY",),
            "requires_api_key": False,
            "default_model": "",
        },
    ),
    "azure-openai": (
        "Azure OpenAI (the model is the deployment's name)",
        {
            "api_key_env": ("AZURE_OPENAI_API_KEY",),
            "default_model": "gpt-4o-mini",
            "price_provider": "azure",
            # The endpoint comes from base_url or AZURE_OPENAI_ENDPOINT (the driver reads it).
            "azure_api_version": "2024-10-21",
        },
    ),
}


@hookimpl
def register_drivers(register: DriverRegistrar) -> None:
    """Register ``openai`` and its presets."""
    register(
        "openai",
        TARGET,
        description="OpenAI Chat Completions or Responses API, and OpenAI-compatible servers",
    )
    for name, (description, preset) in PRESETS.items():
        register(name, TARGET, description=description, preset=preset)
