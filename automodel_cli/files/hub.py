"""The only module that talks to the Hub (or an HF_ENDPOINT mirror).

huggingface_hub retries an unreachable endpoint for about 20 s before giving up. amx instead asks
once with no retries and 2 s to connect; when nothing accepts the connection it falls back to the
Hugging Face cache or stops with one line naming the endpoint. A Hub that accepted the connection is
slow, not unreachable: it gets the time huggingface_hub gives it to answer (HF_HUB_ETAG_TIMEOUT for
metadata and listings, HF_HUB_DOWNLOAD_TIMEOUT for file contents, 10 s each by default).
HF_ENDPOINT, HF_HUB_OFFLINE, HF_HOME/HF_HUB_CACHE and HF_TOKEN are honoured because every call goes
through huggingface_hub itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..base.errors import AmxError, HubUnreachableError, ModelNotFoundError
from ..compat.hub_http import http_library

# When nothing accepts the connection, amx must give up within 3 s of wall time, Python start-up
# (~0.3 s) included; a reachable Hub completes a connection in well under a second.
CONNECT_TIMEOUT_SECONDS = 2.0
ANSWER_TIMEOUT_SECONDS = 10.0  # huggingface_hub's default for both variables
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


def _timeout(read: float):
    """HTTP timeouts: CONNECT_TIMEOUT_SECONDS to connect, then `read` seconds for each answer."""
    return http_library().Timeout(read, connect=CONNECT_TIMEOUT_SECONDS)


def metadata_timeout():
    """For HEAD requests and listings: HF_HUB_ETAG_TIMEOUT (10 s unless set) once connected."""
    return _timeout(float(getattr(_constants(), "HF_HUB_ETAG_TIMEOUT", ANSWER_TIMEOUT_SECONDS)))


def download_timeout():
    """For file contents (range reads): HF_HUB_DOWNLOAD_TIMEOUT (10 s unless set) once connected."""
    return _timeout(float(getattr(_constants(), "HF_HUB_DOWNLOAD_TIMEOUT", ANSWER_TIMEOUT_SECONDS)))


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
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    # LocalEntryNotFoundError: hf_hub_download's own "could not locate it on the Hub, nothing cached".
    return (http_library().TransportError, OfflineModeIsEnabled, LocalEntryNotFoundError, ConnectionError, TimeoutError)


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
        get_hf_file_metadata(hf_hub_url(repo_id, filename, revision=revision), token=token, timeout=metadata_timeout())
    except _network_errors() as error:
        return _cached_or_unreachable(repo_id, filename, revision, error)
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else 0
        if status >= 500 or status in (408, 429):
            return _cached_or_unreachable(repo_id, filename, revision, error)
        raise _translate_http_error(error, repo_id, filename, revision) from None

    try:
        path = hf_hub_download(repo_id, filename, revision=revision, token=token, etag_timeout=metadata_timeout())
    except _network_errors() as error:
        return _cached_or_unreachable(repo_id, filename, revision, error)
    except HfHubHTTPError as error:
        raise _translate_http_error(error, repo_id, filename, revision) from None
    return FetchedFile(Path(path), from_cache=False)


def _reason(error: BaseException) -> str:
    """The first line of a network error, short enough for a one-line message."""
    return (str(error).splitlines()[0] if str(error) else type(error).__name__)[:120]


def _cached_or_unreachable(repo_id: str, filename: str, revision: str | None, error: BaseException) -> FetchedFile:
    cached = cached_file(repo_id, filename, revision)
    if cached is not None:
        return FetchedFile(cached, from_cache=True)
    raise HubUnreachableError(
        f"cannot reach the Hub at {endpoint()} ({_reason(error)}) and {repo_id}/{filename} is not cached",
        hint=OFFLINE_HINT,
    )


# --- Listing a repository and reading byte ranges (safetensors headers without the tensor data) ---

@dataclass(frozen=True)
class RepoFile:
    path: str  # relative to the repository root, '/'-separated
    size: int | None  # None when the server does not say (e.g. an olah mirror)
    sha256: str | None = None  # the content's hash, listed by the Hub for files stored with git-lfs


@dataclass(frozen=True)
class RangeRead:
    data: bytes
    file_size: int | None  # from Content-Range (or Content-Length when the server ignored the range)


def _unreachable(error: BaseException, what: str) -> HubUnreachableError:
    return HubUnreachableError(f"cannot reach the Hub at {endpoint()} for {what} ({_reason(error)})", hint=OFFLINE_HINT)


def _remote_errors() -> tuple[type[BaseException], ...]:
    from huggingface_hub.errors import HfHubHTTPError

    return (*_network_errors(), HfHubHTTPError)


def _remote_error(error: BaseException, repo_id: str, filename: str, revision: str | None, what: str = "") -> AmxError:
    if isinstance(error, _network_errors()):
        return _unreachable(error, what or f"{repo_id}/{filename}")
    return _translate_http_error(error, repo_id, filename, revision)  # type: ignore[arg-type]


def list_repo_files(repo_id: str, *, revision: str | None = None, token: str | None = None) -> list[RepoFile]:
    """Every file of a Hub model at a revision, with sizes when the server gives them, in one request.

    Asks `/api/models/{repo}/revision/{rev}` (mirrors such as olah answer only that form), not
    `/api/models/{repo}`.
    """
    if is_offline():
        raise HubUnreachableError(
            f"HF_HUB_OFFLINE is set: cannot list the files of {repo_id} on the Hub",
            hint="unset HF_HUB_OFFLINE, or pass a local directory",
        )
    from huggingface_hub import HfApi, constants

    try:
        info = HfApi().model_info(
            repo_id, revision=revision or constants.DEFAULT_REVISION, files_metadata=True, token=token,
            timeout=metadata_timeout(),
        )
    except _remote_errors() as error:
        raise _remote_error(error, repo_id, "the file list", revision, f"the file list of {repo_id}") from None
    return [RepoFile(s.rfilename, s.size if isinstance(s.size, int) else None, _lfs_sha256(s.lfs))
            for s in info.siblings or []]


def _lfs_sha256(lfs: object) -> str | None:
    """The sha256 of a sibling's LFS metadata, when it is one (64 lowercase hex digits), else None."""
    value = lfs.get("sha256") if isinstance(lfs, dict) else None
    return value if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value) else None


def read_range(
    repo_id: str, filename: str, start: int, end: int, *, revision: str | None = None, token: str | None = None
) -> RangeRead:
    """Bytes [start, end) of a Hub file with one HTTP range request (fewer when the file is shorter).

    A server that ignores the Range header is read only up to `end`, then the connection is closed.
    """
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    headers = {**build_hf_headers(token=token), "Range": f"bytes={start}-{end - 1}"}
    url = hf_hub_url(repo_id, filename, revision=revision)
    try:
        with get_session().stream("GET", url, headers=headers, timeout=download_timeout(),
                                  follow_redirects=True) as response:
            if response.status_code == 416:  # start is at or past the end of the file
                return RangeRead(b"", _total_size(response.headers.get("Content-Range")))
            hf_raise_for_status(response)
            if response.status_code == 206:
                return RangeRead(_read_at_most(response, 0, end - start),
                                 _total_size(response.headers.get("Content-Range")))
            length = response.headers.get("Content-Length")
            data = _read_at_most(response, start, end - start)
            return RangeRead(data, int(length) if length and length.isdigit() else None)
    except _remote_errors() as error:
        raise _remote_error(error, repo_id, filename, revision) from None


def _read_at_most(response, skip: int, limit: int) -> bytes:
    """At most `limit` bytes of a streamed body after skipping `skip`, never buffering more."""
    chunks, have = [], 0
    for chunk in response.iter_bytes():
        if skip:
            dropped = min(skip, len(chunk))
            chunk, skip = chunk[dropped:], skip - dropped
        chunks.append(chunk[: limit - have])
        have += len(chunks[-1])
        if have >= limit:
            break
    return b"".join(chunks)


def _total_size(content_range: str | None) -> int | None:
    """The total of a `Content-Range: bytes 0-99/1234` (or `bytes */1234`) header."""
    total = (content_range or "").rpartition("/")[2].strip()
    return int(total) if total.isdigit() else None


def file_size(repo_id: str, filename: str, *, revision: str | None = None, token: str | None = None) -> int | None:
    """The size of a Hub file from a HEAD request, for servers whose file list carries no sizes."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    try:
        return get_hf_file_metadata(hf_hub_url(repo_id, filename, revision=revision), token=token,
                                    timeout=metadata_timeout()).size
    except _remote_errors() as error:
        raise _remote_error(error, repo_id, filename, revision) from None


def cached_snapshot(repo_id: str, revision: str | None = None) -> Path | None:
    """The Hugging Face cache's snapshot folder of a repository revision, if there is one."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, revision=revision, local_files_only=True))
    except Exception:  # noqa: BLE001 - any failure means "nothing usable in the cache"
        return None
