"""`amx doctor --error TEXT`: recognise transformers' loading errors and warnings in pasted text.

Each pattern is transformers' (or huggingface_hub's, or torch's) own wording, from transformers 5
and the 4.x releases people still paste from; the match becomes the same Finding `amx doctor MODEL`
gives. Terminal colours are stripped first (transformers colours its load report on a terminal).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from ..knowledge import findings as f
from ..knowledge.findings import Finding
from ..knowledge.head_index import HeadIndex
from .doctor import DoctorReport, make_report

MAX_TEXT = 4 * 1024 * 1024
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Bounded repetition throughout: the text is arbitrary, and unbounded `\S+ literal` backtracks quadratically.
_ID = r"[\w\-./~:]{1,400}"  # a path or Hub id as transformers prints it
_NAME = r"\w{1,200}"  # a class name
_REPORT_ROW = re.compile(r"^[ \t]*(?P<key>[^\s|]{1,500})[ \t]*\|[ \t]*(?P<status>UNEXPECTED|MISSING|MISMATCH)[ \t]*\|"
                         r"(?P<details>.*)$", re.MULTILINE)
_REPORT_HEADER = re.compile(rf"(?P<cls>{_NAME}) LOAD REPORT")
_RESHAPE = re.compile(r"ckpt: (?P<ckpt>torch\.Size\(\[[^\]]*\]\)) vs model:\s*(?P<model>torch\.Size\(\[[^\]]*\]\))")
_BEFORE, _AFTER = 1_000, 50_000  # how far a match may reach around its literal (key lists are long)
_WEIGHT_FILES = ("pytorch_model.bin", "model.safetensors", "tf_model.h5", "flax_model.msgpack", "model.ckpt")


def _list(text: str) -> list[str]:
    """A Python list literal of key names as transformers 4 prints them, tolerating truncation."""
    try:
        value = ast.literal_eval(text)
        return [str(v) for v in value] if isinstance(value, (list, tuple, set)) else []
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        return re.findall(r"'([^']+)'", text)


def _load_reports(text: str) -> list[Finding]:
    """transformers 5's LOAD REPORT tables, each diagnosed on its own (a log may hold several, one per load):
    one row per key, with MISSING, UNEXPECTED or MISMATCH."""
    starts = []
    at = text.find("LOAD REPORT")
    while at >= 0:
        header = _REPORT_HEADER.search(text, max(0, at - 300), at + len("LOAD REPORT"))
        starts.append((header.start() if header else at, header["cls"] if header else "the model"))
        at = text.find("LOAD REPORT", at + len("LOAD REPORT"))
    ends = [start for start, _ in starts[1:]] + [len(text)]
    return [finding for (start, model_class), end in zip(starts, ends)
            for finding in _load_report(text, start, end, model_class)]


def _load_report(text: str, start: int, end: int, model_class: str) -> list[Finding]:
    rows: dict[str, list[tuple[str, str]]] = {}
    for row in _REPORT_ROW.finditer(text, start, end):
        rows.setdefault(row["status"], []).append((row["key"], row["details"]))
    found = []
    if "MISSING" in rows:
        found.append(f.new_weights(model_class, [key for key, _ in rows["MISSING"]], None))
    if "UNEXPECTED" in rows:
        found.append(f.unused_weights(model_class, [key for key, _ in rows["UNEXPECTED"]], None))
    if "MISMATCH" in rows:
        mismatches = []
        for key, details in rows["MISMATCH"]:
            shapes = _RESHAPE.search(details)
            mismatches.append((key, shapes["ckpt"], shapes["model"]) if shapes else (key, "?", "?"))
        refused = text.find("ignore_mismatched_sizes` to `False`", start, end) >= 0
        found.append(f.size_mismatch(mismatches, ignored=not refused))
    return found


def _model_type_of(config_class: str, index: HeadIndex) -> str | None:
    """The model_type of a config class; of several sharing it (gpt2, gpt-sw3...), the one named like it."""
    model_types = [mt for mt, cc in index.config_classes.items() if cc == config_class]
    own = config_class.removesuffix("Config").lower()
    return next((mt for mt in model_types if re.sub(r"[\W_]", "", mt) == own), model_types[0] if model_types else None)


def _where(text: str) -> str:
    return text.rstrip(".,:;'\"")


def _unsupported_head(match: re.Match, index: HeadIndex) -> Finding:
    config_class, head = match["config"], match["head"]
    model_type = _model_type_of(config_class, index)
    supported = list(index.heads_for(config_class))
    return f.unsupported_head(head, config_class, model_type, index.transformers_version, supported, None)


def _unknown_model_type(model_type: str, index: HeadIndex) -> Finding:
    return f.unknown_model_type(model_type, index.transformers_version,
                                known_here=index.config_class_for(model_type) is not None)


def _missing_file(match: re.Match, index: HeadIndex) -> Finding:
    where, filename = _where(match["where"]), _where(match["file"])
    if filename == "config.json":
        return f.no_config(where)
    if any(filename.startswith(name) or name in filename for name in _WEIGHT_FILES):
        return f.no_weights(where)
    return f.missing_file(where, filename)


# (literals, one of which every match contains; the pattern; what the match means)
Rule = tuple[tuple[str, ...], re.Pattern, Callable[[re.Match, HeadIndex], Finding | None]]
_SIZE = r"torch\.Size\(\[[^\]]{0,200}\]\)"


def _rule(needles: str | tuple[str, ...], pattern: str, build: Callable[[re.Match, HeadIndex], Finding | None],
          flags: int = 0) -> Rule:
    return (needles if isinstance(needles, tuple) else (needles,), re.compile(pattern, flags), build)


RULES: list[Rule] = [
    _rule("for this kind of AutoModel",
          r"Unrecognized configuration class <class '(?:[\w.]+\.)?(?P<config>\w+)'> for this kind of "
          r"AutoModel: (?P<head>\w+)", _unsupported_head),
    _rule("to build an AutoTokenizer",
          r"Unrecognized configuration class <class '(?:[\w.]+\.)?(?P<config>\w+)'> to build an AutoTokenizer",
          lambda m, i: f.no_preprocessor("tokenizer", m["config"])),
    _rule("were not initialized from the model checkpoint",
          rf"Some weights of (?P<cls>{_NAME}) were not initialized from the model checkpoint at (?P<where>{_ID}) "
          r"and are newly initialized(?P<shapes> because the shapes did not match)?: (?P<keys>\[.*)",
          lambda m, i: None if m["shapes"] else f.new_weights(m["cls"], _list(m["keys"]), None)),
    _rule("in the model instantiated",
          rf"- (?P<key>[\w.]{{1,500}}): found shape (?P<ckpt>{_SIZE}) in the checkpoint and (?P<model>{_SIZE}) in "
          r"the model instantiated",
          lambda m, i: f.size_mismatch([(m["key"], m["ckpt"], m["model"])], ignored=True)),
    _rule("were not used when initializing",
          rf"Some weights of the model checkpoint at (?P<where>{_ID}) were not used when initializing "
          rf"(?P<cls>{_NAME}): (?P<keys>\[.*)",
          lambda m, i: f.unused_weights(m["cls"], _list(m["keys"]), None)),
    _rule("size mismatch for",
          rf"size mismatch for (?P<key>[\w.]{{1,500}}): copying a param with shape (?P<ckpt>{_SIZE}) from "
          rf"checkpoint, the shape in current model is (?P<model>{_SIZE})",
          lambda m, i: f.size_mismatch([(m["key"], m["ckpt"], m["model"])])),
    _rule("Trying to set a tensor of shape",  # accelerate's set_module_tensor_to_device
          rf"Trying to set a tensor of shape (?P<ckpt>{_SIZE}) in \"(?P<key>\w+)\" \(which has shape "
          rf"(?P<model>{_SIZE})\)",
          lambda m, i: f.size_mismatch([(m["key"], m["ckpt"], m["model"])])),
    _rule("`ignore_mismatched_sizes` to `False`",
          r"You set `ignore_mismatched_sizes` to `False`, thus raising an error",
          lambda m, i: f.size_mismatch([])),
    _rule("Missing key(s) in state_dict", r"Missing key\(s\) in state_dict: (?P<keys>.*)",  # torch, strict loads
          lambda m, i: f.new_weights("the model", re.findall(r'"([^"]+)"', m["keys"]), None, severity=f.ERROR)),
    _rule("Unexpected key(s) in state_dict", r"Unexpected key\(s\) in state_dict: (?P<keys>.*)",
          lambda m, i: f.unused_weights("the model", re.findall(r'"([^"]+)"', m["keys"]), None, severity=f.ERROR)),
    _rule("does not recognize this architecture",
          r"has model type `(?P<type>[^`]{1,200})` but Transformers does not recognize this architecture",
          lambda m, i: _unknown_model_type(m["type"], i)),
    _rule("KeyError: '", r"^KeyError: '(?P<type>[\w\-]{1,100})'\s*$",  # transformers < 4.30 on a new model_type
          lambda m, i: _unknown_model_type(m["type"], i) if i.config_class_for(m["type"]) else None, re.MULTILINE),
    _rule("Unrecognized model in", rf"Unrecognized model in (?P<where>{_ID})\. Should have a `model_type` key",
          lambda m, i: f.no_model_type(_where(m["where"]))),
    _rule(("custom code", "trust_remote_code=True"),
          rf"The repository (?P<repo>{_ID}) (?:contains|references) custom code|Loading (?P<repo2>{_ID}) requires "
          r"you to execute the \w{1,20} file|execute custom code contained in the model repository|pass the "
          r"argument `trust_remote_code=True`|set the option `trust_remote_code=True`",
          lambda m, i: f.remote_code_required(_where(m["repo"] or m["repo2"] or "this model"))),
    _rule("is not a local folder and is not a valid model identifier",
          rf"(?P<repo>{_ID}) is not a local folder and is not a valid model identifier",
          lambda m, i: f.repo_not_found(_where(m["repo"]))),
    _rule("is not a local folder or a valid repository name",
          rf"(?P<repo>{_ID}) is not a local folder or a valid repository name",
          lambda m, i: f.repo_not_found(_where(m["repo"]))),
    _rule("gated repo",
          r"(?:You are trying to access a gated repo|is a gated repository|Cannot access gated repo for url)"
          r"(?:.*?huggingface\.co/(?:api/models/)?(?P<repo>[\w\-.]{1,96}/[\w\-.]{1,96}))?",
          lambda m, i: f.gated_repo(m["repo"] or "the repository"), re.DOTALL),
    _rule("is not a valid git identifier",
          rf"(?P<rev>{_ID}) is not a valid git identifier \(branch name, tag name or commit id\).*?"
          rf"huggingface\.co/(?P<repo>{_ID})'",
          lambda m, i: f.revision_not_found(m["rev"], m["repo"]), re.DOTALL),
    _rule("does not appear to have",
          rf"(?P<where>{_ID}) does not appear to have (?:a file named |files named \(?'?)(?P<file>[\w\-.]{{1,200}})",
          _missing_file),
    _rule("Error no file named",
          rf"Error no file named (?P<file>[\w\-.]{{1,200}})[^\n]{{0,400}}? found in directory (?P<where>{_ID})",
          _missing_file),
    _rule("We couldn't connect to", r"We couldn't connect to '(?P<endpoint>[^']{1,300})' to load",
          lambda m, i: f.hub_unreachable(m["endpoint"])),
    _rule("Error while deserializing header", r"Error while deserializing header: (?P<problem>[^\n]{1,300})",
          lambda m, i: f.bad_weights(f"safetensors says: {m['problem']}")),
    _rule("serious vulnerability issue", r"Due to a serious vulnerability issue in `torch\.load`",
          lambda m, i: f.torch_too_old()),
    _rule("library but it was not found in your environment",
          rf"(?P<what>{_NAME}) requires the (?P<lib>[\w\-🤗 ]{{1,60}}?) library but it was not found in your "
          r"environment(?:[^`]{0,200}`pip install (?P<pip>[^`\n]{1,100})`)?",
          lambda m, i: f.missing_dependency(m["what"], m["lib"].replace("🤗 ", "").strip(), m["pip"])),
    _rule("This modeling file requires the following packages",
          r"This modeling file requires the following packages that were not found in your environment: "
          r"(?P<libs>[^.\n]{1,300})",
          lambda m, i: f.missing_dependency("the repository's code", m["libs"].strip(), m["libs"].replace(",", " "))),
    _rule("to instantiate a model of type",
          r"You are using a model of type `?(?P<src>[\w\-.]{1,100})`? to instantiate a model of type "
          r"`?(?P<dst>[\w\-.]{1,100}?)`?\.",
          lambda m, i: f.model_type_mismatch(m["src"], m["dst"])),
    _rule(tuple(f"Unrecognized {kind} in" for kind in ("processing class", "image processor", "feature extractor",
                                                       "video processor")),
          rf"Unrecognized (?P<kind>processing class|image processor|feature extractor|video processor) in "
          rf"(?P<where>{_ID})",
          lambda m, i: f.no_preprocessor(m["kind"], _where(m["where"]))),
    _rule("is not consistent with the model type you passed",  # AutoConfig.register
          r"not consistent with the model type you passed \(config has (?P<has>[\w\-.]{0,100}) and you passed "
          r"(?P<key>[\w\-.]{1,100})\. Fix",
          lambda m, i: f.registered_model_type_mismatch("the configuration class", m["key"], m["has"], None)),
    _rule("is not consistent with the config class you passed",  # AutoModel.register and the other Auto classes
          r"not consistent with the config class you passed \(model has <class '(?P<has>[\w.]{1,300})'> and you "
          r"passed <class '(?:[\w.]{0,300}\.)?(?P<config>\w{1,200})'>\. Fix",
          lambda m, i: f.registered_config_class_mismatch("an Auto class", "the model class", m["config"], m["has"],
                                                          None)),
    _rule("is already used by a Transformers",
          r"(?:'<class '(?:[\w.]{0,300}\.)?(?P<cls>\w{1,200})'>'|'(?P<key>[^'\n]{1,300})') is already used by a "
          r"Transformers (?P<kind>config|model)",
          lambda m, i: f.registered_builtin_refused(f"a configuration class as {m['key']!r}" if m["kind"] == "config"
                                                    else f"a model class for {m['cls'] or m['key']}", None)),
    _rule("Tokenizer class",
          rf"Tokenizer class (?P<cls>{_NAME}) does not exist or is not currently imported|Tokenizer class "
          rf"'(?P<cls2>{_NAME})' specified in the tokenizer config was not found",
          lambda m, i: f.unknown_tokenizer(m["cls"] or m["cls2"])),
]
_LOOKS_LIKE_ERROR = re.compile(r"Traceback \(most recent call last\)|^\w*(?:Error|Exception)\b.*?:", re.MULTILINE)


def diagnose_text(text: str, index: HeadIndex) -> DoctorReport:
    """The findings in an error message or a log; an error nothing here explains is 'unrecognised-error'."""
    text = _ANSI.sub("", text[:MAX_TEXT])
    found: list[Finding] = []
    found += _load_reports(text)
    for needles, pattern, build in RULES:
        found_at = [at for at in map(text.find, needles) if at >= 0]
        if not found_at:
            continue
        # Matched only near the first literal: linear time whatever the text is.
        start = max(0, min(found_at) - _BEFORE)
        match = pattern.search(text, start, min(len(text), min(found_at) + _AFTER))
        finding = build(match, index) if match else None
        if finding is not None:
            found.append(finding)
    if not found and _LOOKS_LIKE_ERROR.search(text):
        last = [line for line in text.strip().splitlines() if line.strip()]
        found.append(f.unknown_error(last[-1].strip() if last else text.strip()))
    return make_report("text", "error text", found, index)
