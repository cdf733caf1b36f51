"""How the pinned LiteLLM reads a proxy config: its provider prefixes, bare model names and default key variables.

These tables mirror LiteLLM's own code; when LiteLLM changes, they are the only place to update.
"""

from __future__ import annotations

import re

LITELLM_PROVIDERS = frozenset(
    # The prefixes LiteLLM accepts before "/" in litellm_params.model: the LlmProviders enum in
    # litellm/types/utils.py. Anything else before a "/" is not a provider to LiteLLM.
    {
        "ai21", "ai21_chat", "aiml", "aiohttp_openai", "anthropic", "anthropic_text", "assemblyai", "azure",
        "azure_ai", "azure_text", "baseten", "bedrock", "bytez", "cerebras", "clarifai", "cloudflare", "codestral",
        "cohere", "cohere_chat", "cometapi", "compactifai", "custom", "custom_openai", "dashscope", "databricks",
        "datarobot", "deepgram", "deepinfra", "deepseek", "docker_model_runner", "elevenlabs", "empower", "fal_ai",
        "featherless_ai", "fireworks_ai", "friendliai", "galadriel", "gemini", "github", "github_copilot",
        "gradient_ai", "groq", "heroku", "hosted_vllm", "huggingface", "hyperbolic", "infinity", "jina_ai",
        "lambda_ai", "lemonade", "litellm_proxy", "llamafile", "lm_studio", "maritalk", "meta_llama", "mistral",
        "moonshot", "morph", "nebius", "nlp_cloud", "novita", "nscale", "nvidia_nim", "oci", "ollama",
        "ollama_chat", "oobabooga", "openai", "openai_like", "openrouter", "ovhcloud", "perplexity", "petals",
        "predibase", "recraft", "replicate", "runwayml", "sagemaker", "sagemaker_chat", "sambanova", "snowflake",
        "text-completion-codestral", "text-completion-openai", "together_ai", "topaz", "triton", "v0",
        "vercel_ai_gateway", "vertex_ai", "vertex_ai_beta", "vllm", "volcengine", "voyage", "wandb", "watsonx",
        "watsonx_text", "xai", "xinference", "zai",
    }
)  # fmt: skip

BARE_NAME_FAMILIES: tuple[tuple[re.Pattern[str], str], ...] = (
    # A model without a prefix is routed only if LiteLLM knows its exact name: get_llm_provider in
    # litellm/litellm_core_utils/get_llm_provider_logic.py looks it up in open_ai_chat_completion_models,
    # anthropic_models, vertex_language_models…, built by add_known_models in litellm/__init__.py from
    # model_prices_and_context_window.json. Bare gemini-* names are listed there as vertex_ai, not gemini.
    (
        re.compile(r"(gpt-|chatgpt-|ft:gpt-|o[1-9](-|$)|text-embedding-(3|ada)|dall-e-|whisper-|tts-|omni-mod)"),
        "openai",
    ),
    (re.compile(r"claude-"), "anthropic"),
    (re.compile(r"(gemini-|(chat|code|codechat|text)-bison|imagen-|textembedding-gecko)"), "vertex_ai"),
)

COMPATIBLE_ENDPOINTS = {
    # An unprefixed model with one of these in its api_base goes to that provider: openai_compatible_endpoints
    # in litellm/constants.py, matched as substrings by get_llm_provider.
    "api.deepseek.com/v1": "deepseek",
    "api.mistral.ai/v1": "mistral",
    "api.groq.com/openai/v1": "groq",
    "api.perplexity.ai": "perplexity",
    "api.together.xyz/v1": "together_ai",
    "api.x.ai/v1": "xai",
    "api.moonshot.ai/v1": "moonshot",
}

DEFAULT_KEY_VARIABLES = {
    # What LiteLLM reads, in order, when a deployment names no api_key:
    "openai": ("OPENAI_API_KEY",),  # litellm/llms/openai/…: api_key or litellm.api_key or OPENAI_API_KEY
    "anthropic": ("ANTHROPIC_API_KEY",),  # litellm/llms/anthropic/common_utils.py get_api_key
    "gemini": ("GOOGLE_API_KEY", "GEMINI_API_KEY"),  # litellm/llms/gemini/common_utils.py get_api_key
    "deepseek": ("DEEPSEEK_API_KEY",),  # litellm/litellm_core_utils/get_llm_provider_logic.py
    "zai": ("ZAI_API_KEY",),  # litellm/llms/zai/chat/transformation.py
}

OPENAI_FORMAT = frozenset({"openai", "custom_openai"})
"""LiteLLM providers that speak OpenAI's API to whatever host api_base names: the host decides who serves them."""

PREFIX_HINTS = {
    # Prefixes people write that LiteLLM does not have, and the one it does.
    "zhipu": ("zai", "Zhipu GLM models"),
    "zhipuai": ("zai", "Zhipu GLM models"),
    "bigmodel": ("zai", "Zhipu GLM models"),
    "glm": ("zai", "Zhipu GLM models"),
    "z-ai": ("zai", "Zhipu GLM models"),
    "google": ("gemini", "Google AI Studio (Gemini API) models"),
    "google_ai_studio": ("gemini", "Google AI Studio (Gemini API) models"),
    "claude": ("anthropic", "Claude models"),
}

PROVIDER_NOTES = {
    # LiteLLM providers that are easily mistaken for a documented one.
    "vertex_ai": "Google Cloud Vertex AI, billed through Google Cloud, not the documented Gemini API (AI Studio)",
    "vertex_ai_beta": "Google Cloud Vertex AI, not the documented Gemini API (AI Studio)",
    "azure": "Azure OpenAI, billed through Azure, not OpenAI",
    "azure_ai": "Azure AI Foundry, billed through Azure",
    "openrouter": "OpenRouter, a reseller with its own billing",
    "bedrock": "AWS Bedrock, billed through AWS",
    "anthropic_text": "Anthropic's legacy text-completion API",
}

SECRET_WORDS = frozenset({"key", "apikey", "token", "secret", "password", "passwd"})
"""A setting whose name ends in one of these words holds a secret (api_key, master_key, redis_password…)."""

ENV_REFERENCE = "os.environ/"
