"""The OpenAI driver for janito-core: Chat Completions or the Responses API, streamed.

Also speaks to OpenAI-compatible servers (vLLM, llama.cpp, Ollama, ...) through ``base_url``.
The driver class lives in ``janito_driver_openai.driver``; importing this package does not import
the ``openai`` SDK.
"""
