"""Source configuration use case: the Tushare token (encrypted at rest, never returned), endpoint and pacing."""

from __future__ import annotations

from zquant_kit.errors import InvalidArgument
from zquant_marketdata.application.sync_ports import Clock, SecretBox, SourceConfigRepository
from zquant_marketdata.domain.sync import SourceConfig, check_base_url, check_calls_per_minute


class SourceConfigUseCases:
    """The Tushare token (encrypted at rest, never returned), endpoint and pacing."""

    def __init__(
        self,
        repo: SourceConfigRepository,
        secrets: SecretBox,
        clock: Clock,
        *,
        default_base_url: str,
        default_calls_per_minute: float,
        env_token: str = "",
    ) -> None:
        self._repo = repo
        self._secrets = secrets
        self._clock = clock
        self._default_base_url = default_base_url
        self._default_cpm = default_calls_per_minute
        self._env_token = env_token

    async def set(self, token: str, base_url: str, calls_per_minute: float) -> bool:
        token = token.strip()
        if token and (len(token) > 512 or any(ch.isspace() for ch in token)):
            raise InvalidArgument("tushare_token", "must be a single word without whitespace")
        base_url = check_base_url(base_url)
        calls_per_minute = check_calls_per_minute(calls_per_minute)
        stored = await self._repo.get_source_config()
        current_url = stored.base_url if stored else self._default_base_url
        current_cpm = stored.calls_per_minute if stored else self._default_cpm
        moved = bool(base_url) and base_url != current_url
        if moved and not token and stored and stored.token_ciphertext:
            # The SDK sends the token to base_url: a new endpoint must come with its token, or the stored
            # one could be redirected to any server by whoever can change the URL.
            raise InvalidArgument("tushare_token", "required when base_url changes (the stored token is not re-sent)")
        ciphertext = self._secrets.encrypt(token) if token else None
        await self._repo.save_source_config(
            ciphertext,
            keep_token=not token,
            base_url=base_url or current_url,
            calls_per_minute=calls_per_minute or current_cpm,
            now=self._clock.now(),
        )
        return token != "" or bool(stored and stored.token_ciphertext) or bool(self._env_token)

    async def get(self) -> SourceConfig:
        stored = await self._repo.get_source_config()
        if stored is None:
            return SourceConfig(bool(self._env_token), self._default_base_url, self._default_cpm)
        return SourceConfig(
            bool(stored.token_ciphertext) or bool(self._env_token),
            stored.base_url,
            stored.calls_per_minute,
            stored.updated_at,
        )

    async def token(self) -> str:
        """The stored token (decrypted), else the environment's, else empty. Never log it."""
        stored = await self._repo.get_source_config()
        if stored is not None and stored.token_ciphertext:
            return self._secrets.decrypt(stored.token_ciphertext)
        return self._env_token
