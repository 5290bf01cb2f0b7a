"""The heads of any repository shape, and (`amx heads --check-weights`) each head against the checkpoint."""

from __future__ import annotations

from ..knowledge.head_index import HeadIndex
from ..knowledge.heads import HeadsReport, adapt_heads, heads_for_config
from ..repository.dispatch import Repository


def heads_for_repository(repository: Repository, index: HeadIndex) -> HeadsReport:
    """The heads report of any repository shape: an adapter's base (native head from its task type), a
    sentence-transformers model's Transformer module, or no heads for a component of another library."""
    if repository.resolved is None:
        if repository.kind == "gguf":
            repository.transformers_config()
        return HeadsReport(repository.display(), None, None, [], index.transformers_version, None, [],
                           notes=[repository.no_transformers_model(), repository.no_transformers_hint()],
                           from_cache=repository.from_cache)
    report = heads_for_config(repository.resolved.config, index, repository.display())
    report.from_cache = repository.from_cache
    if repository.adapter is not None:
        adapt_heads(report, repository.adapter, index.adapter_rules())
    if repository.gguf is not None:
        report.notes.append(repository.gguf.note())
    if repository.modules is not None:
        report.notes.append("sentence-transformers model: the heads of its Transformer module "
                            f"({repository.modules.transformer_path or 'the root folder'})")
    return report
