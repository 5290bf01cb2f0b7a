"""What can go wrong when transformers loads a model, each as one Finding with a plain-words fix.

`amx doctor MODEL` predicts these from a model's files; `amx doctor --error TEXT` recognises them in
transformers' own messages. Both build them here, so a problem reads the same either way.
Codes are stable (documented in docs/guide.md); messages may improve.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR, WARNING, INFO = "error", "warning", "info"  # the load fails / loads but not cleanly / nothing to fix
UNCHECKED = "unchecked"  # amx could not tell: the verdict cannot be ok
SHOWN_KEYS = 5
UPGRADE = "pip install -U transformers"


@dataclass
class Finding:
    code: str
    severity: str
    message: str
    fix: str = ""
    keys: list[str] = field(default_factory=list)  # every weight concerned (the message shows a few)


def verdict(findings: list[Finding]) -> str:
    """'fail' when the load would fail, 'warn' when it would work with warnings or random weights,
    'unknown' when something the load depends on could not be checked, else 'ok'."""
    severities = {finding.severity for finding in findings}
    return ("fail" if ERROR in severities else "warn" if WARNING in severities
            else "unknown" if UNCHECKED in severities else "ok")


def _keys(keys: list[str]) -> str:
    shown = ", ".join(keys[:SHOWN_KEYS])
    return shown + (f" (+{len(keys) - SHOWN_KEYS} more)" if len(keys) > SHOWN_KEYS else "")


def _heads_list(supported: list[str], native: str | None) -> str:
    return ", ".join(f"{head} (native)" if head == native else head for head in supported)


def unsupported_head(head: str, config_class: str, model_type: str | None, version: str, supported: list[str],
                     native: str | None) -> Finding:
    what = f"{config_class} (model_type {model_type!r})" if model_type else config_class
    return Finding(
        "unsupported-head", ERROR,
        f"{head} has no model class for {what} in transformers {version}: from_pretrained raises "
        f"'Unrecognized configuration class ... for this kind of AutoModel: {head}'",
        f"use a head this model supports: {_heads_list(supported, native)}" if supported
        else "no Auto model class of this transformers supports it",
    )


def new_weights(model_class: str, keys: list[str] | None, native: str | None, severity: str = WARNING) -> Finding:
    which = f": {_keys(keys)}" if keys else " (its head)"
    wrong = f"; to use the checkpoint as it was trained, load it with {native}" if native else ""
    return Finding(
        "new-weights", severity,
        f"{model_class} would start with newly initialised (random) weights{which}",
        f"fine-tune before use: outputs are meaningless until trained{wrong}", keys or [],
    )


def head_from_another_task(model_class: str, keys: list[str], trained_for: str, used_for: str,
                           native: str) -> Finding:
    return Finding(
        "head-from-another-task", WARNING,
        f"{model_class} would load head weights trained for {trained_for} as its own, for {used_for}: {_keys(keys)}",
        f"fine-tune before use: that head's outputs mean nothing for {used_for} yet; to use the checkpoint as it was "
        f"trained, load it with {native}", keys,
    )


def unused_weights(model_class: str, keys: list[str] | None, native: str | None, severity: str = WARNING) -> Finding:
    which = f": {_keys(keys)}" if keys else " (the checkpoint's own head)"
    return Finding(
        "unused-weights", severity,
        f"checkpoint weights that {model_class} has no place for would be dropped{which}",
        "expected when you want only part of the model (e.g. the base model for embeddings)"
        + (f"; to keep them, load it with {native}" if native else ""), keys or [],
    )


def unknown_architecture(architecture: str, model_type: str | None, version: str, examined: str,
                         asked: bool) -> Finding:
    return Finding(
        "unknown-architecture", INFO if asked else WARNING,
        f"architectures[0] {architecture!r} is no class transformers {version} builds for model_type "
        f"{model_type!r}: which head the checkpoint was saved with is unknown, so {examined} is "
        f"{'examined as asked' if asked else 'examined by default'}",
        "" if asked else "pass --head with the Auto class you load it with; if the class is the repository's own "
                         "code, it needs auto_map in config.json and trust_remote_code=True",
    )


def unknown_checkpoint_head() -> Finding:
    return Finding(
        "unknown-checkpoint-head", INFO,
        "config.json lists no architectures: which head the checkpoint holds is unknown, so new or unused "
        "weights cannot be predicted from the config",
    )


def size_mismatch(mismatches: list[tuple[str, str, str]], ignored: bool = False) -> Finding:
    shown = "; ".join(f"{key}: checkpoint {ckpt} vs model {model}" for key, ckpt, model in mismatches[:SHOWN_KEYS])
    more = f" (+{len(mismatches) - SHOWN_KEYS} more)" if len(mismatches) > SHOWN_KEYS else ""
    return Finding(
        "size-mismatch", WARNING if ignored else ERROR,
        (f"shapes differ between checkpoint and model, {'re-initialised' if ignored else 'so the load is refused'}: "
         f"{shown or 'see the load report'}{more}"),
        "usually num_labels or vocab_size differ from the checkpoint's: pass the checkpoint's value, or "
        "ignore_mismatched_sizes=True to re-initialise those weights (then fine-tune)",
        [key for key, _, _ in mismatches],
    )


def unknown_model_type(model_type: str, installed: str, needed: str | None = None,
                       known_here: bool = False) -> Finding:
    if known_here:
        return Finding(
            "unknown-model-type", ERROR,
            f"model_type {model_type!r} was unknown to the transformers that failed; the installed "
            f"transformers {installed} knows it",
            f"upgrade transformers where it failed: pip install -U 'transformers>={installed}'",
        )
    return Finding(
        "unknown-model-type", ERROR,
        f"model_type {model_type!r} is not known to the installed transformers {installed}",
        f"{install_at_least(needed)} (the version that wrote config.json)" if needed
        else f"{UPGRADE}; a model newer than any release needs transformers from source "
             "(pip install git+https://github.com/huggingface/transformers), or the repository's own code",
    )


def no_model_type(where: str) -> Finding:
    return Finding(
        "no-model-type", ERROR,
        f"{where}: config.json has no model_type, so AutoConfig cannot tell which model this is",
        'add "model_type" to config.json (e.g. "bert"), or load the concrete class (BertModel) directly',
    )


def install_at_least(version: str) -> str:
    """The pip command for a transformers at least `version`: a development build (5.26.0.dev0) is not on
    PyPI, so its release, or transformers from source."""
    from packaging.version import InvalidVersion, Version

    try:
        parsed = Version(version)
    except InvalidVersion:
        return UPGRADE
    if not (parsed.is_prerelease or parsed.is_devrelease):
        return f"pip install -U 'transformers>={version}'"
    return (f"pip install -U 'transformers>={parsed.base_version}' once it is released ({version} is a "
            "development build, not on PyPI), or transformers from source: "
            "pip install git+https://github.com/huggingface/transformers")


def newer_transformers(written_by: str, installed: str) -> Finding:
    return Finding(
        "newer-transformers", WARNING,
        f"config.json was written by transformers {written_by}, newer than the installed {installed}: "
        "settings it relies on may be ignored or unknown here",
        install_at_least(written_by),
    )


def remote_code_required(what: str, reference: str | None = None) -> Finding:
    code = f" ({reference})" if reference else ""
    return Finding(
        "remote-code", ERROR,
        f"{what} exists only as the repository's own code{code}: from_pretrained refuses it without "
        "trust_remote_code=True",
        "read the repository's Python files, then pass trust_remote_code=True (amx never runs them)",
    )


def remote_code_available(head: str, reference: str, local_class: str) -> Finding:
    return Finding(
        "remote-code-available", INFO,
        f"the repository also ships its own {head} code ({reference}); without trust_remote_code=True "
        f"transformers uses its built-in {local_class}",
    )


def pickle_weights(files: list[str]) -> Finding:
    return Finding(
        "pickle-weights", WARNING,
        f"the weights are pickle files only ({', '.join(files)}): from_pretrained unpickles them with "
        "torch.load(weights_only=True), which needs torch >= 2.6; amx never opens them",
        "prefer a safetensors copy (model.safetensors): ask the authors, use the Hub's conversion PR, or "
        "save_pretrained() once from a trusted, sandboxed load",
    )


def torch_too_old() -> Finding:
    return Finding(
        "pickle-weights", ERROR,
        "transformers refuses to unpickle .bin weights with a torch older than 2.6 (CVE-2025-32434)",
        "upgrade torch (>= 2.6), or load a safetensors copy of the weights",
    )


def no_weights(where: str, other_formats: list[str] | None = None) -> Finding:
    if other_formats:
        return Finding(
            "no-weights", ERROR,
            f"{where} has only {', '.join(other_formats)}, which transformers 5 does not load",
            "use a repository or revision with model.safetensors (or pytorch_model.bin); gguf files need gguf_file=",
        )
    return Finding(
        "no-weights", ERROR,
        f"{where} has no model weights (model.safetensors, pytorch_model.bin or their .index.json)",
        "point at the folder or repository that holds the weights; a variant (model.fp16.safetensors) needs "
        "variant='fp16'; from_config() builds the model with random weights instead",
    )


def variant_required(where: str, variants: list[str]) -> Finding:
    listed = ", ".join(f"model.{variant}.safetensors" for variant in variants)
    return Finding(
        "variant-required", ERROR,
        f"{where} has only variant weights ({listed}): from_pretrained without variant= looks for "
        "model.safetensors and finds none",
        f"load it with from_pretrained(..., variant={variants[0]!r}) (amx: --variant {variants[0]})",
    )


def no_variant_weights(where: str, variant: str, variants: list[str], plain: bool) -> Finding:
    others = [f"variant={other!r}" for other in variants] + (["no variant"] if plain else [])
    return Finding(
        "no-weights", ERROR,
        f"{where} has no weights of variant {variant!r} (model.{variant}.safetensors, "
        f"model.safetensors.index.{variant}.json or their pytorch_model.bin equivalents)",
        f"load it with {' or '.join(others)}" if others else "point at the folder or repository that holds the weights",
    )


def weights_not_checked(problem: str) -> Finding:
    return Finding(
        "weights-not-checked", UNCHECKED,
        "the weight files could not be listed and the Hugging Face cache holds none, so whether from_pretrained "
        f"finds any is unknown: {problem}",
        "run again where the Hub (or HF_ENDPOINT) can be reached; from_pretrained fails the same way unless "
        "the weights are already in the Hugging Face cache",
    )


def bad_weights(problem: str) -> Finding:
    return Finding(
        "bad-weights", ERROR, f"the weight files are broken, so from_pretrained would fail to read them: {problem}",
        "download the checkpoint again (an interrupted download leaves such files), or re-save it",
    )


def repo_not_found(repo: str) -> Finding:
    return Finding(
        "repo-not-found", ERROR,
        f"{repo} is neither a local folder nor a repository on the Hub (or it is private)",
        "check the spelling (org/name); for a private repository log in (hf auth login) or pass token=/--token",
    )


def gated_repo(repo: str) -> Finding:
    return Finding(
        "gated-repo", ERROR,
        f"{repo} is gated: its files are served only to accounts that accepted its terms",
        "accept the terms on the model's Hub page, then log in (hf auth login) or pass token=/--token",
    )


def revision_not_found(revision: str, repo: str) -> Finding:
    return Finding(
        "revision-not-found", ERROR,
        f"revision {revision!r} does not exist in {repo}",
        "use an existing branch, tag or commit id (see the repository's 'Files and versions' page)",
    )


def no_config(where: str) -> Finding:
    return Finding(
        "no-config", ERROR,
        f"{where} has no config.json, so AutoConfig cannot tell which model it is",
        "point at the folder that holds config.json (often a subfolder such as text_encoder/), "
        "or save the model with save_pretrained()",
    )


def missing_file(where: str, filename: str) -> Finding:
    return Finding("missing-file", ERROR, f"{where} has no file named {filename}",
                   "check the repository's file list; a file in a subfolder needs subfolder=")


def not_found(message: str) -> Finding:
    return Finding("not-found", ERROR, message, "check the path or the Hub id")


def hub_unreachable(endpoint: str) -> Finding:
    return Finding(
        "hub-unreachable", ERROR,
        f"the Hub ({endpoint}) could not be reached and the files are not in the local cache",
        "check the network, set HF_ENDPOINT to a mirror, or HF_HUB_OFFLINE=1 with the files already cached",
    )


def model_type_mismatch(checkpoint_type: str, class_type: str) -> Finding:
    return Finding(
        "model-type-mismatch", WARNING,
        f"a {checkpoint_type!r} checkpoint is being loaded into a {class_type!r} model class: most weights "
        "will not fit unless the two architectures share them",
        f"use the Auto class (it picks the {checkpoint_type} class), or the class made for {checkpoint_type!r}",
    )


def gguf_file_required(where: str, name: str) -> Finding:
    fix = f"from_pretrained(MODEL_FOLDER, gguf_file={name!r}) (amx: --gguf-file {name})"
    return Finding("gguf-file-required", ERROR, f"{where} holds a GGUF checkpoint and no config.json: from_pretrained "
                   "reads a .gguf file only when gguf_file= names it, and otherwise fails looking for config.json", fix)


def gguf_unsupported_architecture(architecture: str, version: str) -> Finding:
    return Finding(
        "gguf-unsupported-architecture", ERROR,
        f"transformers {version} cannot load GGUF architecture {architecture!r}: from_pretrained(..., gguf_file=...) "
        f"raises 'GGUF model with architecture {architecture} is not supported yet'",
        "run the file with llama.cpp, upgrade transformers (pip install -U transformers), or use the original "
        "(non-GGUF) repository of the model; `amx inspect` still lists the file's tensors",
    )


def missing_dependency(what: str, library: str, pip_name: str | None = None) -> Finding:
    return Finding("missing-dependency", ERROR, f"{what} needs the {library} library, which is not installed",
                   f"pip install {' '.join((pip_name or library).split())}")


def no_preprocessor(kind: str, where: str) -> Finding:
    return Finding(
        "no-preprocessor", ERROR, f"transformers found no {kind} for {where}",
        "check the repository has the processor files (tokenizer_config.json, preprocessor_config.json); "
        "'amx heads MODEL --processors' lists which ones apply",
    )


def unknown_tokenizer(name: str) -> Finding:
    return Finding(
        "unknown-tokenizer", ERROR, f"tokenizer class {name} is not in the installed transformers",
        f"{UPGRADE}, or it is the repository's own class (trust_remote_code=True)",
    )


def unknown_error(first_line: str) -> Finding:
    return Finding(
        "unrecognised-error", ERROR, f"an error amx does not recognise: {first_line[:200]}",
        "run 'amx doctor MODEL' to check the model itself, or search the message in transformers' issues",
    )


def missing_target_modules(missing: list[str], targets: list[str] | str, model_class: str) -> Finding:
    """A PEFT adapter whose target modules the model lacks: peft raises when none is found, and leaves the
    adapter's weights for the missing ones unused otherwise."""
    every = isinstance(targets, str) or len(missing) == len(targets)
    return Finding(
        "missing-target-modules", ERROR if every else WARNING,
        f"the adapter targets modules {model_class} does not have: {_keys(missing)}"
        + (": peft raises 'Target modules ... not found in the base model'" if every
           else ": peft makes no adapter layer for them"),
        "load the adapter on the base model it was trained on (base_model_name_or_path), or retrain it with "
        "target_modules that exist in this model (`amx inspect --tree` lists its modules)", missing,
    )


def untargeted_adapter_tensors(untargeted: list[str], saved: int) -> Finding:
    """Adapter tensors of modules target_modules does not name: peft makes no layer for them."""
    return Finding(
        "untargeted-adapter-tensors", WARNING,  # the model loads, without those adapter weights
        f"{len(untargeted)} of the adapter's {saved} saved tensors belong to modules outside its target_modules, "
        f"so transformers drops them as unexpected keys: {_keys(untargeted)}",
        "add their modules to target_modules in adapter_config.json if they were trained, or save the adapter "
        "again from the PeftModel that trained it", untargeted,
    )


def dropped_adapter_tensors(dropped: list[str], saved: int, transformers_version: str) -> Finding:
    """Adapter tensors the installed transformers drops as unexpected keys (compat/adapters.py)."""
    return Finding(
        "dropped-adapter-tensors", WARNING,  # the model loads, without (all or part of) the adapter
        f"transformers {transformers_version} loads the model without {len(dropped)} of the adapter's {saved} "
        f"saved tensors: {_keys(dropped)}",
        "upgrade transformers (later 5.x releases load them), or attach the adapter with "
        "peft.PeftModel.from_pretrained(base_model, adapter)", dropped,
    )


def no_auto_heads(what: str, loader: str) -> Finding:
    """A diffusers pipeline, or a component of another library: no AutoModel class loads it."""
    return Finding(
        "no-auto-heads", ERROR,
        f"{what}, so AutoModel...from_pretrained cannot load it",
        loader,
    )


def adapter_base(message: str) -> Finding:
    """A PEFT adapter whose base model (base_model_name_or_path) cannot be loaded."""
    return Finding("adapter-base", ERROR, message,
                   "set base_model_name_or_path in adapter_config.json to the Hub id or path of the model the "
                   "adapter was trained on, or load that base yourself and attach the adapter with peft")


# Classes a project registers with the Auto classes (`amx ... --import MODULE`); docs/registered-models.md.
# `module` is the imported module that registered them, None when only transformers' message is known.


def _by(module: str | None) -> str:
    return f" (by {module})" if module else ""


def registered_model_type_mismatch(config_class: str, key: str, class_model_type: str | None,
                                   module: str | None) -> Finding:
    return Finding(
        "registered-model-type-mismatch", ERROR,
        f"{config_class} is registered with AutoConfig as {key!r}{_by(module)} but its model_type is "
        f"{class_model_type!r}: a config saved with it would reload as {class_model_type!r} (AutoConfig.register "
        "raises on this mismatch)",
        f"set model_type = {key!r} in the body of {config_class} (a class attribute), or register it as "
        f"{class_model_type!r}",
    )


def registered_config_class_mismatch(auto_class: str, model_class: str, config_class: str,
                                     model_config_class: str | None, module: str | None) -> Finding:
    return Finding(
        "registered-config-class-mismatch", ERROR,
        f"{model_class} is registered with {auto_class} for {config_class}{_by(module)} but its config_class is "
        f"{model_config_class or 'not set'}: from_pretrained and save_pretrained of {model_class} would use another "
        "configuration class than the Auto classes",
        f"set config_class = {config_class} in the body of {model_class}, the very class registered with "
        "AutoConfig (not a copy of the same name)",
    )


def registered_not_pretrained_model(auto_class: str, model_class: str, module: str | None) -> Finding:
    return Finding(
        "registered-not-pretrained-model", ERROR,
        f"{model_class} is registered with {auto_class}{_by(module)} but is not a PreTrainedModel: "
        f"{auto_class}.from_config and from_pretrained call methods it lacks (_from_config, from_pretrained)",
        f"derive {model_class} from transformers.PreTrainedModel (and set its config_class)",
    )


def registered_shadows_builtin(what: str, model_type: str, module: str | None, replaced: str) -> Finding:
    return Finding(
        "registered-shadows-builtin", WARNING,
        f"{module or 'your code'} registers {what} over transformers' own model_type {model_type!r}: in every "
        f"process that imports it, the Auto classes build it instead of {replaced}, for every {model_type!r} "
        "checkpoint",
        "give the custom model its own model_type and configuration class (register without exist_ok=True), "
        "unless replacing transformers' class everywhere is intended",
    )


def registered_builtin_refused(registration: str, module: str | None) -> Finding:
    """`registration`: what was registered and under which key, e.g. "MyBertConfig as 'bert'"."""
    return Finding(
        "registered-shadows-builtin", ERROR,
        f"{module or 'your code'} registers {registration}, which transformers already has: register() refuses "
        "it without exist_ok=True",
        "give the custom model its own model_type and configuration class (exist_ok=True would replace "
        "transformers' class in every process that imports the module)",
    )


def unregistered_model_type(model_type: str, installed: str, modules: list[str]) -> Finding:
    return Finding(
        "unregistered-model-type", ERROR,
        f"model_type {model_type!r} of config.json is neither in transformers {installed} nor registered by "
        f"{', '.join(modules)}",
        f"register it in one of these modules (AutoConfig.register({model_type!r}, YourConfig) and "
        "AutoModel.register(YourConfig, YourModel)), or --import the module that does; check the spelling of "
        "model_type in config.json",
    )


def quantization_fails(method: str, reason: str, missing: list[str], where: str = "this machine") -> Finding:
    """from_pretrained raises in the quantizer's checks: what to install, or why it cannot work here."""
    return Finding(
        "quantization-fails", ERROR, f"from_pretrained raises for the {method!r} quantization on {where}: {reason}",
        "pip install " + " ".join(f"'{package}'" for package in missing) if missing
        else "this machine cannot load it as it is quantized (see the reason); load it where the quantizer's "
             "requirements hold, or use an unquantized release",
    )


def unknown_quant_method(method: str, supported: list[str]) -> Finding:
    return Finding(
        "unknown-quant-method", ERROR,
        f"quant_method {method!r} is unknown to the installed transformers: it skips the quantization and "
        "loads the packed tensors as plain weights, which fails on their shapes or gives meaningless outputs",
        f"{UPGRADE} if a newer release supports it; this one supports: {', '.join(supported)}",
    )


def quantization_not_checked(problem: str) -> Finding:
    """The quantizer's checks could not run here: the load may still fail for the quantization."""
    return Finding(
        "quantization-not-checked", UNCHECKED,
        f"what from_pretrained does with the quantization was not checked: {problem}",
        "run amx doctor where it can build the model (the full install, with torch)",
    )


def dequantized_load(method: str, quantizer: str | None, dtype: str | None, loaded: str, stored: str,
                     where: str = "this machine") -> Finding:
    """`dtype` None: the checkpoint's float dtype, which config.json does not name (no weights to read)."""
    memory = (f"the loaded weights take {loaded}, against {stored} stored" if dtype else
              "the float dtype is the checkpoint's, which config.json does not name, so the memory is not known "
              "without the weights")
    return Finding(
        "dequantized-load", WARNING,
        f"{quantizer or method} dequantizes the {method!r} weights{f' to {dtype}' if dtype else ''} on {where} "
        f"(no kernel or GPU it needs is there): {memory}",
        ("expect that memory" if dtype else "expect the unquantized model's memory in that dtype (amx inspect "
         "lists it per dtype)") + "; the quantized kernels need the hardware or packages the quantizer looks for",
    )
