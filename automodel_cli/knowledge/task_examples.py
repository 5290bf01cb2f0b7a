"""Short, runnable Python for each Auto model class: preprocess, call the model, read the main output.

Checkpoints are the installed transformers' own pipeline defaults where it has one, else a
well-known model with that head, else a placeholder id.
"""

from __future__ import annotations

PLACEHOLDER = "your-org/your-model"

EXAMPLE_CHECKPOINTS = {
    "AutoModel": "sentence-transformers/all-MiniLM-L6-v2",
    "AutoModelForMaskedLM": "distilbert/distilroberta-base",
    "AutoModelForCausalLM": "HuggingFaceTB/SmolLM3-3B",
    "AutoModelForSeq2SeqLM": "google-t5/t5-small",
    "AutoModelForSequenceClassification": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    "AutoModelForTokenClassification": "dbmdz/bert-large-cased-finetuned-conll03-english",
    "AutoModelForQuestionAnswering": "distilbert/distilbert-base-cased-distilled-squad",
    "AutoModelForTableQuestionAnswering": "google/tapas-base-finetuned-wtq",
    "AutoModelForDocumentQuestionAnswering": "impira/layoutlm-document-qa",
    "AutoModelForImageTextToText": "Qwen/Qwen3-VL-2B-Instruct",
    "AutoModelForMultimodalLM": "google/gemma-3n-E4B-it",
    "AutoModelForSpeechSeq2Seq": "openai/whisper-tiny",
    "AutoModelForCTC": "facebook/wav2vec2-base-960h",
    "AutoModelForTextToWaveform": "suno/bark-small",
    "AutoModelForAudioClassification": "superb/wav2vec2-base-superb-ks",
    "AutoModelForImageClassification": "google/vit-base-patch16-224",
    "AutoModelForZeroShotImageClassification": "openai/clip-vit-base-patch32",
    "AutoModelForImageSegmentation": "facebook/detr-resnet-50-panoptic",
    "AutoModelForSemanticSegmentation": "nvidia/segformer-b0-finetuned-ade-512-512",
    "AutoModelForObjectDetection": "facebook/detr-resnet-50",
    "AutoModelForZeroShotObjectDetection": "google/owlvit-base-patch32",
    "AutoModelForDepthEstimation": "Intel/dpt-large",
    "AutoModelForVideoClassification": "MCG-NJU/videomae-base-finetuned-kinetics",
    "AutoModelForMaskGeneration": "facebook/sam-vit-huge",
    "AutoModelForKeypointMatching": "magic-leap-community/superglue_outdoor",
}

_TEXT_INPUT = 'inputs = tokenizer("Hugging Face is based in New York City.", return_tensors="pt")'
_IMAGE_INPUT = ('image = Image.open("photo.jpg")\n'
                'inputs = image_processor(images=image, return_tensors="pt")')
_AUDIO_INPUT = ("# waveform: a 1-D float array of 16 kHz audio, e.g. from soundfile or librosa\n"
                'inputs = feature_extractor(waveform, sampling_rate=16_000, return_tensors="pt")')
_LABEL = "print(model.config.id2label[int(logits.argmax(-1)[0])])"

# Auto class -> (input lines, lines that run the model and read its main output).
_BODIES: dict[str, tuple[str, str]] = {
    "AutoModel": (_TEXT_INPUT, "print(model(**inputs).last_hidden_state.shape)  # (batch, seq, hidden)"),
    "AutoModelForMaskedLM": (
        'inputs = tokenizer(f"Paris is the {tokenizer.mask_token} of France.", return_tensors="pt")',
        "logits = model(**inputs).logits\n"
        "masked = (inputs.input_ids == tokenizer.mask_token_id).nonzero()[0, 1]\n"
        "print(tokenizer.decode(logits[0, masked].argmax()))"),
    "AutoModelForCausalLM": (
        'inputs = tokenizer("The capital of France is", return_tensors="pt")',
        "output_ids = model.generate(**inputs, max_new_tokens=20)\n"
        "print(tokenizer.decode(output_ids[0], skip_special_tokens=True))"),
    "AutoModelForSeq2SeqLM": (
        'inputs = tokenizer("translate English to German: The house is wonderful.", return_tensors="pt")',
        "output_ids = model.generate(**inputs, max_new_tokens=40)\n"
        "print(tokenizer.decode(output_ids[0], skip_special_tokens=True))"),
    "AutoModelForSequenceClassification": (
        'inputs = tokenizer("I loved this film.", return_tensors="pt")',
        f"logits = model(**inputs).logits  # (batch, num_labels)\n{_LABEL}"),
    "AutoModelForTokenClassification": (
        _TEXT_INPUT,
        "logits = model(**inputs).logits  # (batch, seq, num_labels)\n"
        "tokens = tokenizer.convert_ids_to_tokens(inputs.input_ids[0])\n"
        "labels = [model.config.id2label[int(i)] for i in logits.argmax(-1)[0]]\n"
        "print(list(zip(tokens, labels)))"),
    "AutoModelForQuestionAnswering": (
        'inputs = tokenizer("Where is Hugging Face based?", "Hugging Face is based in New York City.",\n'
        '                   return_tensors="pt")',
        "outputs = model(**inputs)  # start_logits, end_logits: (batch, seq)\n"
        "start, end = int(outputs.start_logits.argmax()), int(outputs.end_logits.argmax())\n"
        "print(tokenizer.decode(inputs.input_ids[0, start : end + 1]))"),
    "AutoModelForImageClassification": (_IMAGE_INPUT, f"logits = model(**inputs).logits  # (batch, num_labels)\n{_LABEL}"),
    "AutoModelForObjectDetection": (
        _IMAGE_INPUT,
        "outputs = model(**inputs)  # logits, pred_boxes\n"
        "results = image_processor.post_process_object_detection(\n"
        "    outputs, threshold=0.5, target_sizes=[image.size[::-1]])\n"
        "print(results[0])"),
    "AutoModelForSemanticSegmentation": (
        _IMAGE_INPUT,
        "outputs = model(**inputs)  # logits: (batch, num_labels, h, w)\n"
        "segmentation = image_processor.post_process_semantic_segmentation(\n"
        "    outputs, target_sizes=[image.size[::-1]])[0]  # a label id per pixel"),
    "AutoModelForDepthEstimation": (_IMAGE_INPUT, "depth = model(**inputs).predicted_depth  # (batch, h, w)"),
    "AutoModelForAudioClassification": (_AUDIO_INPUT, f"logits = model(**inputs).logits  # (batch, num_labels)\n{_LABEL}"),
    "AutoModelForCTC": (
        '# waveform: a 1-D float array of 16 kHz audio, e.g. from soundfile or librosa\n'
        'inputs = processor(waveform, sampling_rate=16_000, return_tensors="pt")',
        "logits = model(**inputs).logits  # (batch, frames, vocab)\n"
        "print(processor.batch_decode(logits.argmax(-1))[0])"),
    "AutoModelForSpeechSeq2Seq": (
        '# waveform: a 1-D float array of 16 kHz audio, e.g. from soundfile or librosa\n'
        'inputs = processor(waveform, sampling_rate=16_000, return_tensors="pt")',
        "output_ids = model.generate(**inputs, max_new_tokens=100)\n"
        "print(processor.batch_decode(output_ids, skip_special_tokens=True)[0])"),
    "AutoModelForImageTextToText": (
        'messages = [{"role": "user", "content": [\n'
        '    {"type": "image", "url": "https://example.com/photo.jpg"},\n'
        '    {"type": "text", "text": "Describe this image."}]}]\n'
        "inputs = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,\n"
        '                                       return_dict=True, return_tensors="pt")',
        "output_ids = model.generate(**inputs, max_new_tokens=50)\n"
        'print(processor.decode(output_ids[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True))'),
    "AutoModelForZeroShotImageClassification": (
        'image = Image.open("photo.jpg")\n'
        'labels = ["a photo of a cat", "a photo of a dog"]\n'
        'inputs = processor(text=labels, images=image, padding=True, return_tensors="pt")',
        "probs = model(**inputs).logits_per_image.softmax(-1)  # (batch, labels)\n"
        "print(dict(zip(labels, probs[0].tolist())))"),
}

# How the input is prepared, by modality: (variable, Auto class, generic input lines).
_PREPROCESSING = {
    "text": ("tokenizer", "AutoTokenizer", _TEXT_INPUT),
    "vision": ("image_processor", "AutoImageProcessor", _IMAGE_INPUT),
    "audio": ("feature_extractor", "AutoFeatureExtractor", _AUDIO_INPUT),
    "multimodal": ("processor", "AutoProcessor", 'inputs = processor(..., return_tensors="pt")  # text, images, audio'),
}
# Heads whose example prepares input differently from their modality's default.
_PREPROCESSING_OF = {
    "AutoModel": "text",
    "AutoModelForCTC": "multimodal",
    "AutoModelForSpeechSeq2Seq": "multimodal",
}


def code_example(auto_class: str, modality: str, pipelines: list[str]) -> str:
    """Python that loads `auto_class` with its preprocessing class and reads the main output."""
    kind = _PREPROCESSING_OF.get(auto_class, modality)
    variable, preprocessor, generic_input = _PREPROCESSING.get(kind, _PREPROCESSING["multimodal"])
    inputs, run = _BODIES.get(auto_class, (generic_input, "outputs = model(**inputs)"))
    checkpoint = EXAMPLE_CHECKPOINTS.get(auto_class, PLACEHOLDER)
    lines = [f"from transformers import {preprocessor}, {auto_class}"]
    if "Image.open" in inputs:
        lines.insert(0, "from PIL import Image")
    lines += [
        "",
        f'checkpoint = "{checkpoint}"',
        f"{variable} = {preprocessor}.from_pretrained(checkpoint)",
        f"model = {auto_class}.from_pretrained(checkpoint)",
        "",
        inputs,
        run,
    ]
    if pipelines:
        lines += ["", f'# or in one line: pipeline("{pipelines[0]}", model=checkpoint)']
    return "\n".join(lines) + "\n"
