"""Registers the ``openai`` driver and its presets for OpenAI-compatible providers with
janito-core (imports no SDK)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from janito_core.hookspecs import DriverRegistrar, hookimpl

TARGET = "janito_driver_openai.driver:OpenAIDriver"

# What each provider's Chat Completions API takes, from its docs (the README's table says
# where): ``accepts`` are the media types sent from bytes, ``accepts_urls`` those it fetches
# itself. Plain tuples: the registry reads presets before any driver module is imported.
_IMAGES = ("image/png", "image/jpeg", "image/webp", "image/gif")
_AUDIO = ("audio/wav", "audio/mpeg")  # input_audio's two formats

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
            # Text only; JSON output is json_object mode alone (no json_schema), so the schema
            # goes in the system prompt, which must say "JSON" anyway.
            "accepts": (),
            "accepts_urls": (),
            "structured_output": "json_object",
        },
    ),
    "groq": (
        "Groq (OpenAI-compatible Chat Completions)",
        {
            "base_url": "https://api.groq.com/openai/v1",
            "api_key_env": ("GROQ_API_KEY",),
            "default_model": "llama-3.3-70b-versatile",
            "price_provider": "groq",
            # Vision models take image_url (data URL up to 4 MB, URL up to 20 MB); no files, and
            # audio only through its transcription endpoint.
            "accepts": _IMAGES,
            "accepts_urls": _IMAGES,
        },
    ),
    "openrouter": (
        "OpenRouter (OpenAI-compatible Chat Completions, many providers' models)",
        {
            "base_url": "https://openrouter.ai/api/v1",
            "api_key_env": ("OPENROUTER_API_KEY",),
            "default_model": "openai/gpt-4o-mini",
            "price_provider": "openrouter",
            # Images, PDFs (file parts, a URL in file_data too) and input_audio (base64 only).
            "accepts": (*_IMAGES, "application/pdf", *_AUDIO),
            "accepts_urls": (*_IMAGES, "application/pdf"),
        },
    ),
    "together": (
        "Together AI (OpenAI-compatible Chat Completions)",
        {
            "base_url": "https://api.together.ai/v1",
            "api_key_env": ("TOGETHER_API_KEY",),
            "default_model": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "price_provider": "together",
            # Vision models take image_url blocks (a URL or a data URL); no files or audio.
            "accepts": _IMAGES,
            "accepts_urls": _IMAGES,
        },
    ),
    "xai": (
        "xAI Grok (OpenAI-compatible Chat Completions)",
        {
            "base_url": "https://api.x.ai/v1",
            "api_key_env": ("XAI_API_KEY",),
            "default_model": "grok-4",
            "price_provider": "x-ai",
            # Image understanding takes JPEG and PNG, by URL or base64; files only through
            # xAI's own Files API.
            "accepts": ("image/png", "image/jpeg"),
            "accepts_urls": ("image/png", "image/jpeg"),
        },
    ),
    "ollama": (
        "Ollama's OpenAI-compatible server (local, no key)",
        {
            "base_url": "http://localhost:11434/v1",
            "api_key_env": ("OLLAMA_API_KEY",),
            "requires_api_key": False,
            "default_model": "llama3.2",
            # Vision models: image content as base64 or a URL; no files or audio.
            "accepts": ("image/png", "image/jpeg"),
            "accepts_urls": ("image/png", "image/jpeg"),
        },
    ),
    "vllm": (
        "vLLM's OpenAI-compatible server (local, no key; pass the served model)",
        {
            "base_url": "http://localhost:8000/v1",
            "api_key_env": ("VLLM_API_KEY",),
            "requires_api_key": False,
            "default_model": "",
            # Whatever the served model takes: images and input_audio on multimodal models.
            "accepts": (*_IMAGES, *_AUDIO),
            "accepts_urls": _IMAGES,
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
            # That GA version takes images and json_schema; audio input and PDF file parts
            # need later (preview) versions.
            "accepts": _IMAGES,
            "accepts_urls": _IMAGES,
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
