"""What each Auto model class is for: its task, pipeline name, modality, and rank as a native head.

The rank decides the native head when several Auto classes map a model_type to the same class
(bart's BartForConditionalGeneration is in Seq2SeqLM, MaskedLM and PreTraining). The rule mirrors
the Hub's "Use this model" button:

1. generation heads win (the checkpoint was trained to generate; other mappings are by-products),
   multimodal generation before text-only generation;
2. then task heads (classification, question answering, detection, ...);
3. then pre-training by-products (masked LM, next-sentence prediction, PreTraining, ...);
4. generic classes (AutoModel, then AutoModelForTextEncoding, AutoBackbone) last.

Within a rank, the order of transformers' own modeling_auto wins.
"""

from __future__ import annotations

from dataclasses import dataclass

GENERATION, TASK, BY_PRODUCT, GENERIC = 0, 1, 2, 3


@dataclass(frozen=True)
class TaskInfo:
    task: str
    pipeline: str | None
    modality: str
    rank: int


# Generation heads, most specific first: their position is their priority inside the GENERATION rank.
_GENERATION_ORDER = [
    "AutoModelForImageTextToText",
    "AutoModelForMultimodalLM",
    "AutoModelForSpeechSeq2Seq",
    "AutoModelForTextToWaveform",
    "AutoModelForTextToSpectrogram",
    "AutoModelForSeq2SeqLM",
    "AutoModelForCausalLM",
]

AUTO_CLASS_TASKS: dict[str, TaskInfo] = {
    "AutoModel": TaskInfo("base model (hidden states, no head)", "feature-extraction", "any", GENERIC),
    "AutoBackbone": TaskInfo("backbone (feature maps for other heads)", None, "vision", GENERIC),
    "AutoModelForPreTraining": TaskInfo("pre-training heads", None, "any", BY_PRODUCT),
    "AutoModelForMaskedLM": TaskInfo("masked language modeling", "fill-mask", "text", BY_PRODUCT),
    "AutoModelForNextSentencePrediction": TaskInfo("next-sentence prediction", None, "text", BY_PRODUCT),
    "AutoModelForTextEncoding": TaskInfo("text encoding (encoder of a seq2seq model)", None, "text", GENERIC),
    "AutoModelForMaskedImageModeling": TaskInfo("masked image modeling", None, "vision", BY_PRODUCT),
    "AutoModelForAudioTokenization": TaskInfo("audio tokenization (codec)", None, "audio", BY_PRODUCT),
    "AutoModelForCausalLM": TaskInfo("causal language modeling", "text-generation", "text", GENERATION),
    "AutoModelForSeq2SeqLM": TaskInfo(
        "sequence-to-sequence generation", "text2text-generation", "text", GENERATION
    ),
    "AutoModelForImageTextToText": TaskInfo(
        "image-text-to-text generation", "image-text-to-text", "multimodal", GENERATION
    ),
    "AutoModelForMultimodalLM": TaskInfo("multimodal generation", "any-to-any", "multimodal", GENERATION),
    "AutoModelForSpeechSeq2Seq": TaskInfo(
        "speech-to-text generation", "automatic-speech-recognition", "audio", GENERATION
    ),
    "AutoModelForTextToSpectrogram": TaskInfo("text to spectrogram", "text-to-audio", "audio", GENERATION),
    "AutoModelForTextToWaveform": TaskInfo("text to waveform", "text-to-audio", "audio", GENERATION),
    "AutoModelForSequenceClassification": TaskInfo("sequence classification", "text-classification", "text", TASK),
    "AutoModelForTokenClassification": TaskInfo(
        "token classification (NER, POS)", "token-classification", "text", TASK
    ),
    "AutoModelForQuestionAnswering": TaskInfo("extractive question answering", "question-answering", "text", TASK),
    "AutoModelForTableQuestionAnswering": TaskInfo(
        "table question answering", "table-question-answering", "text", TASK
    ),
    "AutoModelForMultipleChoice": TaskInfo("multiple choice", None, "text", TASK),
    "AutoModelForVisualQuestionAnswering": TaskInfo(
        "visual question answering", "visual-question-answering", "multimodal", TASK
    ),
    "AutoModelForDocumentQuestionAnswering": TaskInfo(
        "document question answering", "document-question-answering", "multimodal", TASK
    ),
    "AutoModelForImageClassification": TaskInfo("image classification", "image-classification", "vision", TASK),
    "AutoModelForZeroShotImageClassification": TaskInfo(
        "zero-shot image classification", "zero-shot-image-classification", "multimodal", TASK
    ),
    "AutoModelForImageSegmentation": TaskInfo("image segmentation", "image-segmentation", "vision", TASK),
    "AutoModelForSemanticSegmentation": TaskInfo("semantic segmentation", "image-segmentation", "vision", TASK),
    "AutoModelForInstanceSegmentation": TaskInfo("instance segmentation", "image-segmentation", "vision", TASK),
    "AutoModelForUniversalSegmentation": TaskInfo("universal segmentation", "image-segmentation", "vision", TASK),
    "AutoModelForObjectDetection": TaskInfo("object detection", "object-detection", "vision", TASK),
    "AutoModelForZeroShotObjectDetection": TaskInfo(
        "zero-shot object detection", "zero-shot-object-detection", "multimodal", TASK
    ),
    "AutoModelForDepthEstimation": TaskInfo("depth estimation", "depth-estimation", "vision", TASK),
    "AutoModelForNormalEstimation": TaskInfo("surface normal estimation", None, "vision", TASK),
    "AutoModelForPointmapEstimation": TaskInfo("point map estimation", None, "vision", TASK),
    "AutoModelForPoseEstimation": TaskInfo("pose estimation", None, "vision", TASK),
    "AutoModelForKeypointDetection": TaskInfo("keypoint detection", "keypoint-detection", "vision", TASK),
    "AutoModelForKeypointMatching": TaskInfo("keypoint matching", "keypoint-matching", "vision", TASK),
    "AutoModelForMaskGeneration": TaskInfo("mask generation", "mask-generation", "vision", TASK),
    "AutoModelForImageToImage": TaskInfo("image to image", "image-to-image", "vision", TASK),
    "AutoModelForImageMatting": TaskInfo("image matting", None, "vision", TASK),
    "AutoModelForTextRecognition": TaskInfo("text recognition (OCR)", "image-to-text", "vision", TASK),
    "AutoModelForTableRecognition": TaskInfo("table recognition", None, "vision", TASK),
    "AutoModelForVideoClassification": TaskInfo("video classification", "video-classification", "vision", TASK),
    "AutoModelForAudioClassification": TaskInfo("audio classification", "audio-classification", "audio", TASK),
    "AutoModelForAudioFrameClassification": TaskInfo("audio frame classification", None, "audio", TASK),
    "AutoModelForAudioXVector": TaskInfo("speaker verification (x-vector)", None, "audio", TASK),
    "AutoModelForCTC": TaskInfo(
        "speech recognition (CTC)", "automatic-speech-recognition", "audio", TASK
    ),
    "AutoModelForRNNT": TaskInfo("speech recognition (RNN transducer)", "automatic-speech-recognition", "audio", TASK),
    "AutoModelForTDT": TaskInfo(
        "speech recognition (token-and-duration transducer)", "automatic-speech-recognition", "audio", TASK
    ),
    "AutoModelForTimeSeriesPrediction": TaskInfo("time series prediction", "time-series-forecasting", "time series", TASK),
    "AutoModelForDecision": TaskInfo("decision transformer (offline RL)", None, "reinforcement learning", TASK),
}


def task_info(auto_class: str) -> TaskInfo:
    """Task facts for an Auto class, with a readable fallback for classes newer than this table."""
    known = AUTO_CLASS_TASKS.get(auto_class)
    if known is not None:
        return known
    words = auto_class.removeprefix("AutoModelFor").removeprefix("Auto")
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in words).strip()
    return TaskInfo(spaced or auto_class, None, "any", TASK)


# Generic classes: a checkpoint saved as BertModel is "an AutoModel", not "a text encoder".
_GENERIC_ORDER = ["AutoModel", "AutoModelForTextEncoding", "AutoBackbone"]


def native_priority(auto_class: str) -> tuple[int, int]:
    """Sort key: lower wins the native-head choice."""
    info = task_info(auto_class)
    order = _GENERATION_ORDER if info.rank == GENERATION else _GENERIC_ORDER if info.rank == GENERIC else []
    return info.rank, order.index(auto_class) if auto_class in order else len(order)
