"""The Slack Web API client Saydo uses: the configured base URL and retries built in."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings

WEB_API_TIMEOUT_SECONDS = 15


def build_web_client(settings: Settings, *, token: str | None = None) -> WebClient:
    """A `WebClient` that retries HTTP 429 (after `Retry-After`), 5xx and connection errors."""
    return WebClient(
        token=token if token is not None else settings.bot_token,
        base_url=settings.slack_api_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )
