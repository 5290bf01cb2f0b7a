"""The only module that talks to the Hub (or an HF_ENDPOINT mirror).

huggingface_hub retries an unreachable endpoint for about 20 s before giving up. amx instead asks
once with a short timeout and no retries; when that fails it falls back to the Hugging Face cache
or stops with one line naming the endpoint. HF_ENDPOINT, HF_HUB_OFFLINE, HF_HOME/HF_HUB_CACHE
and HF_TOKEN are honoured because every call goes through huggingface_hub itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import AmxError, HubUnreachableError, ModelNotFoundError

# amx must give up within 3 s of wall time, Python start-up (~0.3 s) included; a healthy Hub answers a
# HEAD in well under a second. httpx applies it per phase (connect, then read).
PROBE_TIMEOUT_SECONDS = 2.0
OFFLINE_HINT = (
    "check the network, point HF_ENDPOINT at a reachable mirror, set HF_HUB_OFFLINE=1 to use only "
    "the cache, or pass a local directory"
)


@dataclass(frozen=True)
class FetchedFile:
    path: Path
    from_cache: bool  # True when the Hub was not asked (offline) or could not be reached


def _constants():
    """huggingface_hub's settings (read from the environment at its import), with telemetry off.

    With telemetry on, huggingface_hub 2.x asks `<endpoint>/api/agent-harnesses` (3 s timeout, cached
    for a day) before its first request to build the user agent: against an endpoint that drops
    packets or never answers, that alone would exceed amx's 3-second budget.
    """
    from huggingface_hub import constants

    constants.HF_HUB_DISABLE_TELEMETRY = True
    return constants


def endpoint() -> str:
    return _constants().ENDPOINT


def is_offline() -> bool:
    return bool(_constants().HF_HUB_OFFLINE)


def cached_file(repo_id: str, filename: str, revision: str | None) -> Path | None:
    """The cached copy of a Hub file, if the Hugging Face cache has one for this revision."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename, revision=revision)
    return Path(found) if isinstance(found, str) else None


def _network_errors() -> tuple[type[BaseException], ...]:
    import httpx2
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    # LocalEntryNotFoundError: hf_hub_download's own "could not locate it on the Hub, nothing cached".
    return (httpx2.TransportError, OfflineModeIsEnabled, LocalEntryNotFoundError, ConnectionError, TimeoutError)


def _translate_http_error(error: Exception, repo_id: str, filename: str, revision: str | None) -> AmxError:
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{repo_id}@{revision}" if revision else repo_id
    if isinstance(error, GatedRepoError):
        return ModelNotFoundError(
            f"{where} is gated on {endpoint()}: access must be requested",
            hint="accept the model's terms on its Hub page, then pass --token or set HF_TOKEN",
        )
    if isinstance(error, RepositoryNotFoundError):
        return ModelNotFoundError(
            f"repository {repo_id} not found on {endpoint()} (or it is private)",
            hint="check the spelling; for a private model pass --token or set HF_TOKEN",
        )
    if isinstance(error, RevisionNotFoundError):
        return ModelNotFoundError(f"revision {revision!r} not found in {repo_id}")
    if isinstance(error, RemoteEntryNotFoundError):
        return ModelNotFoundError(f"{filename} not found in {where}")
    if isinstance(error, HfHubHTTPError):
        status = error.response.status_code if error.response is not None else "?"
        if status == 401:  # not RepoNotFound: huggingface.co's answer to a wrong or expired token
            return ModelNotFoundError(
                f"{endpoint()} refused the token sent for {where} (HTTP 401)",
                hint="check --token or HF_TOKEN (a public model needs none: unset HF_TOKEN or log out)",
            )
        return HubUnreachableError(f"{endpoint()} answered HTTP {status} for {where}/{filename}", hint=OFFLINE_HINT)
    return AmxError(f"could not fetch {filename} of {where}: {error}")


def fetch_file(repo_id: str, filename: str, *, revision: str | None = None, token: str | None = None) -> FetchedFile:
    """Download one (small) file of a Hub repository into the HF cache, failing fast when offline."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError

    if is_offline():
        cached = cached_file(repo_id, filename, revision)
        if cached is None:
            raise HubUnreachableError(
                f"HF_HUB_OFFLINE is set and {repo_id}/{filename} is not in the Hugging Face cache",
                hint="unset HF_HUB_OFFLINE to download it, or pass a local directory",
            )
        return FetchedFile(cached, from_cache=True)

    try:
        get_hf_file_metadata(
            hf_hub_url(repo_id, filename, revision=revision), token=token, timeout=PROBE_TIMEOUT_SECONDS
        )
    except _network_errors() as error:
        return _cached_or_unreachable(repo_id, filename, revision, error)
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else 0
        if status >= 500 or status in (408, 429):
            return _cached_or_unreachable(repo_id, filename, revision, error)
        raise _translate_http_error(error, repo_id, filename, revision) from None

    try:
        path = hf_hub_download(repo_id, filename, revision=revision, token=token, etag_timeout=PROBE_TIMEOUT_SECONDS)
    except _network_errors() as error:
        return _cached_or_unreachable(repo_id, filename, revision, error)
    except HfHubHTTPError as error:
        raise _translate_http_error(error, repo_id, filename, revision) from None
    return FetchedFile(Path(path), from_cache=False)


def _cached_or_unreachable(repo_id: str, filename: str, revision: str | None, error: BaseException) -> FetchedFile:
    cached = cached_file(repo_id, filename, revision)
    if cached is not None:
        return FetchedFile(cached, from_cache=True)
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    raise HubUnreachableError(
        f"cannot reach the Hub at {endpoint()} ({reason[:120]}) and {repo_id}/{filename} is not cached",
        hint=OFFLINE_HINT,
    )
