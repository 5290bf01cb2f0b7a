"""What each Auto model class is for: its task, pipeline name, modality, and rank as a native head.

The rank decides the native head when several Auto classes map a model_type to the same class
(bart's BartForConditionalGeneration is in Seq2SeqLM, MaskedLM and PreTraining). The rule mirrors
the Hub's "Use this model" button:

1. generation heads win (the checkpoint was trained to generate; other mappings are by-products),
   multimodal generation before text-only generation;
2. then task heads (classification, question answering, detection, ...);
3. then pre-training by-products (masked LM, next-sentence prediction, ...), AutoModelForPreTraining last:
   it maps many model types to their masked-LM class (deberta-v2, layoutlm, roberta), and a
   `*ForMaskedLM` checkpoint is a fill-mask model on the Hub;
4. generic classes (AutoModel, then AutoModelForTextEncoding, AutoBackbone) last.

Within a rank, the order of transformers' own modeling_auto wins.
"""

from __future__ import annotations

from dataclasses import dataclass

GENERATION, TASK, BY_PRODUCT, GENERIC = 0, 1, 2, 3


@dataclass(frozen=True)
class TaskInfo:
    task: str
    hub_task: str | None  # the Hub's task tag (pipeline_tag) of models with this head
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
    "AutoModelForDecision": TaskInfo(
        "decision (a probability for each option of typed questions)", "decision", "text", TASK
    ),
}


@dataclass(frozen=True)
class HeadIO:
    """What a head typically takes and what it mainly returns."""

    inputs: str
    output: str


HEAD_IO: dict[str, HeadIO] = {
    "AutoModel": HeadIO("input_ids, pixel_values or input_values", "last_hidden_state (batch, seq, hidden)"),
    "AutoBackbone": HeadIO("pixel_values", "feature_maps, one per stage"),
    "AutoModelForPreTraining": HeadIO("input_ids (+ pre-training labels)", "the pre-training objectives' logits"),
    "AutoModelForMaskedLM": HeadIO("input_ids with mask tokens", "logits (batch, seq, vocab)"),
    "AutoModelForNextSentencePrediction": HeadIO("input_ids of a sentence pair", "logits (batch, 2)"),
    "AutoModelForTextEncoding": HeadIO("input_ids", "last_hidden_state of the encoder"),
    "AutoModelForMaskedImageModeling": HeadIO("pixel_values, bool_masked_pos", "reconstruction (batch, channels, h, w)"),
    "AutoModelForAudioTokenization": HeadIO("input_values (waveform)", "audio_codes (discrete tokens)"),
    "AutoModelForCausalLM": HeadIO("input_ids (prompt)", "logits (batch, seq, vocab); generate() -> token ids"),
    "AutoModelForSeq2SeqLM": HeadIO("input_ids (source text)", "generate() -> target token ids"),
    "AutoModelForImageTextToText": HeadIO("pixel_values + input_ids (prompt)", "generate() -> text token ids"),
    "AutoModelForMultimodalLM": HeadIO("input_ids + images, audio or video", "generate() -> token ids"),
    "AutoModelForSpeechSeq2Seq": HeadIO("input_features (log-mel spectrogram)", "generate() -> transcript token ids"),
    "AutoModelForTextToSpectrogram": HeadIO("input_ids (text)", "spectrogram (a vocoder makes the waveform)"),
    "AutoModelForTextToWaveform": HeadIO("input_ids (text)", "waveform"),
    "AutoModelForSequenceClassification": HeadIO("input_ids (a text or a text pair)", "logits (batch, num_labels)"),
    "AutoModelForTokenClassification": HeadIO("input_ids", "logits (batch, seq, num_labels): a label per token"),
    "AutoModelForQuestionAnswering": HeadIO("input_ids (question + context)", "start_logits, end_logits (batch, seq)"),
    "AutoModelForTableQuestionAnswering": HeadIO("input_ids (question + table)", "cell logits, aggregation logits"),
    "AutoModelForMultipleChoice": HeadIO("input_ids (batch, num_choices, seq)", "logits (batch, num_choices)"),
    "AutoModelForVisualQuestionAnswering": HeadIO("pixel_values + input_ids (question)", "answer logits or text"),
    "AutoModelForDocumentQuestionAnswering": HeadIO("page image, words, boxes + question", "start_logits, end_logits"),
    "AutoModelForImageClassification": HeadIO("pixel_values", "logits (batch, num_labels)"),
    "AutoModelForZeroShotImageClassification": HeadIO("pixel_values + input_ids (labels)", "logits_per_image"),
    "AutoModelForImageSegmentation": HeadIO("pixel_values", "per-pixel mask logits"),
    "AutoModelForSemanticSegmentation": HeadIO("pixel_values", "logits (batch, num_labels, h, w)"),
    "AutoModelForInstanceSegmentation": HeadIO("pixel_values", "class and mask logits per query"),
    "AutoModelForUniversalSegmentation": HeadIO("pixel_values", "class and mask logits per query"),
    "AutoModelForObjectDetection": HeadIO("pixel_values", "logits + pred_boxes (batch, queries, 4)"),
    "AutoModelForZeroShotObjectDetection": HeadIO("pixel_values + input_ids (queries)", "logits + pred_boxes per query"),
    "AutoModelForDepthEstimation": HeadIO("pixel_values", "predicted_depth (batch, h, w)"),
    "AutoModelForNormalEstimation": HeadIO("pixel_values", "a surface normal per pixel"),
    "AutoModelForPointmapEstimation": HeadIO("pixel_values", "a 3-D point per pixel"),
    "AutoModelForPoseEstimation": HeadIO("pixel_values (+ person boxes)", "keypoint heatmaps"),
    "AutoModelForKeypointDetection": HeadIO("pixel_values", "keypoints, scores, descriptors"),
    "AutoModelForKeypointMatching": HeadIO("pixel_values of an image pair", "matches, matching_scores"),
    "AutoModelForMaskGeneration": HeadIO("pixel_values + points or boxes (prompts)", "pred_masks, iou_scores"),
    "AutoModelForImageToImage": HeadIO("pixel_values", "reconstruction (the restored or upscaled image)"),
    "AutoModelForImageMatting": HeadIO("pixel_values (+ trimap)", "alphas (alpha matte)"),
    "AutoModelForTextRecognition": HeadIO("pixel_values (a text crop)", "character logits -> text"),
    "AutoModelForTableRecognition": HeadIO("pixel_values (a table image)", "table structure tokens and cell boxes"),
    "AutoModelForVideoClassification": HeadIO("pixel_values (batch, frames, channels, h, w)", "logits (batch, num_labels)"),
    "AutoModelForAudioClassification": HeadIO("input_values (waveform)", "logits (batch, num_labels)"),
    "AutoModelForAudioFrameClassification": HeadIO("input_values (waveform)", "logits (batch, frames, num_labels)"),
    "AutoModelForAudioXVector": HeadIO("input_values (waveform)", "embeddings (batch, xvector_dim)"),
    "AutoModelForCTC": HeadIO("input_values (waveform)", "logits (batch, frames, vocab) -> CTC decoding"),
    "AutoModelForRNNT": HeadIO("input_features (spectrogram)", "transcript token ids (transducer decoding)"),
    "AutoModelForTDT": HeadIO("input_features (spectrogram)", "transcript token ids and durations"),
    "AutoModelForTimeSeriesPrediction": HeadIO("past_values (+ time features)", "forecast of future values"),
    "AutoModelForDecision": HeadIO("input_ids (state + questions)", "a probability per option"),
}

# What people call a task besides the Auto class, its task text and pipeline names: task names, not model
# names. `amx tasks` matches them, and AUTOCLASS arguments (`amx source`, `amx doctor --head`) accept them.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "AutoModel": ("base", "base model", "embeddings", "sentence embeddings", "sentence similarity", "hidden states"),
    "AutoBackbone": ("backbone", "feature maps"),
    "AutoModelForPreTraining": ("pretraining",),
    "AutoModelForMaskedLM": ("mlm", "masked lm", "fill mask", "cloze"),
    "AutoModelForNextSentencePrediction": ("nsp",),
    "AutoModelForTextEncoding": ("text encoder",),
    "AutoModelForMaskedImageModeling": ("mim", "simmim"),
    "AutoModelForAudioTokenization": ("audio codec", "codec", "neural codec"),
    "AutoModelForCausalLM": ("clm", "causal lm", "lm", "llm", "language model", "chat", "chatbot", "text generation",
                             "code generation", "completion", "decoder only"),
    "AutoModelForSeq2SeqLM": ("seq2seq", "summarization", "summarisation", "summary", "translation", "translate",
                              "machine translation", "text2text", "encoder decoder", "paraphrase"),
    "AutoModelForImageTextToText": ("vlm", "vision language model", "image captioning", "captioning", "image to text",
                                    "vision2seq", "visual chat", "multimodal chat"),
    "AutoModelForMultimodalLM": ("any to any", "omni", "multimodal llm"),
    "AutoModelForSpeechSeq2Seq": ("asr", "speech recognition", "speech to text", "stt", "transcription", "transcribe",
                                  "speech translation"),
    "AutoModelForTextToSpectrogram": ("tts", "text to speech", "speech synthesis"),
    "AutoModelForTextToWaveform": ("tts", "text to speech", "speech synthesis", "music generation"),
    "AutoModelForSequenceClassification": ("sentiment", "sentiment analysis", "text classification", "classifier", "nli",
                                           "natural language inference", "zero shot classification", "intent detection",
                                           "regression", "reranker", "reranking", "rerank", "re ranking",
                                           "passage reranking", "cross encoder"),
    "AutoModelForTokenClassification": ("ner", "named entity recognition", "entity extraction", "pos",
                                        "pos tagging", "part of speech tagging", "chunking", "sequence labeling"),
    "AutoModelForQuestionAnswering": ("qa", "extractive qa", "squad", "reading comprehension", "span extraction"),
    "AutoModelForTableQuestionAnswering": ("table qa", "tableqa"),
    "AutoModelForMultipleChoice": ("mcq", "swag"),
    "AutoModelForVisualQuestionAnswering": ("vqa", "visual qa"),
    "AutoModelForDocumentQuestionAnswering": ("docvqa", "document qa"),
    "AutoModelForImageClassification": ("image classifier", "image recognition"),
    "AutoModelForImageSegmentation": ("segmentation", "panoptic segmentation"),
    "AutoModelForSemanticSegmentation": ("segmentation", "scene parsing"),
    "AutoModelForInstanceSegmentation": ("segmentation",),
    "AutoModelForUniversalSegmentation": ("segmentation", "panoptic segmentation"),
    "AutoModelForObjectDetection": ("detection", "object detector", "bounding boxes"),
    "AutoModelForZeroShotObjectDetection": ("open vocabulary detection", "grounding"),
    "AutoModelForDepthEstimation": ("depth", "monocular depth"),
    "AutoModelForNormalEstimation": ("normals",),
    "AutoModelForPointmapEstimation": ("point map", "3d reconstruction"),
    "AutoModelForPoseEstimation": ("pose", "human pose"),
    "AutoModelForKeypointDetection": ("keypoints", "interest points"),
    "AutoModelForKeypointMatching": ("feature matching", "image matching"),
    "AutoModelForMaskGeneration": ("segment anything", "promptable segmentation"),
    "AutoModelForImageToImage": ("super resolution", "upscaling", "image restoration"),
    "AutoModelForImageMatting": ("matting", "background removal", "alpha matte"),
    "AutoModelForTextRecognition": ("ocr",),
    "AutoModelForTableRecognition": ("table structure",),
    "AutoModelForVideoClassification": ("action recognition", "video classifier"),
    "AutoModelForAudioClassification": ("audio classifier", "sound classification", "keyword spotting",
                                        "speech emotion recognition", "language identification"),
    "AutoModelForAudioFrameClassification": ("diarization", "speaker diarization", "voice activity detection", "vad"),
    "AutoModelForAudioXVector": ("speaker verification", "speaker embeddings", "xvector"),
    "AutoModelForCTC": ("asr", "speech recognition", "speech to text", "ctc"),
    "AutoModelForRNNT": ("asr", "speech recognition", "transducer"),
    "AutoModelForTDT": ("asr", "speech recognition"),
    "AutoModelForTimeSeriesPrediction": ("forecasting", "time series", "timeseries"),
}


# Tasks no Auto model class of transformers does, asked for by name: (task, library, how it loads them).
_DIFFUSERS_IMAGES = ("image generation (text-to-image)", "diffusers",
                     'AutoPipelineForText2Image.from_pretrained("stabilityai/stable-diffusion-xl-base-1.0")')
_DIFFUSERS_VIDEO = ("video generation (text-to-video)", "diffusers",
                    'DiffusionPipeline.from_pretrained("Wan-AI/Wan2.1-T2V-1.3B-Diffusers")')
OTHER_LIBRARY_TASKS: dict[str, tuple[str, str, str]] = {
    **dict.fromkeys(("text to image", "text2image", "txt2img", "image generation", "image synthesis",
                     "generate images", "generate image", "stable diffusion", "diffusion", "inpainting"),
                    _DIFFUSERS_IMAGES),
    **dict.fromkeys(("text to video", "text2video", "video generation", "video synthesis"), _DIFFUSERS_VIDEO),
}


def short_name(auto_class: str) -> str:
    """The Auto class without its prefix: AutoModelForQuestionAnswering -> QuestionAnswering."""
    return auto_class.removeprefix("AutoModelFor").removeprefix("Auto") or auto_class


def task_info(auto_class: str) -> TaskInfo:
    """Task facts for an Auto class, with a readable fallback for classes newer than this table."""
    known = AUTO_CLASS_TASKS.get(auto_class)
    if known is not None:
        return known
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in short_name(auto_class)).strip()
    return TaskInfo(spaced or auto_class, None, "any", TASK)


def head_io(auto_class: str) -> HeadIO:
    return HEAD_IO.get(auto_class, HeadIO("", ""))


# Generic classes: a checkpoint saved as BertModel is "an AutoModel", not "a text encoder".
_GENERIC_ORDER = ["AutoModel", "AutoModelForTextEncoding", "AutoBackbone"]
# PreTraining is the catch-all of the by-products: any specific objective that maps the class wins.
_BY_PRODUCT_ORDER = ["AutoModelForMaskedLM", "AutoModelForNextSentencePrediction", "AutoModelForMaskedImageModeling",
                     "AutoModelForAudioTokenization", "AutoModelForPreTraining"]
_RANK_ORDER = {GENERATION: _GENERATION_ORDER, BY_PRODUCT: _BY_PRODUCT_ORDER, GENERIC: _GENERIC_ORDER}


def native_priority(auto_class: str) -> tuple[int, int]:
    """Sort key: lower wins the native-head choice."""
    info = task_info(auto_class)
    order = _RANK_ORDER.get(info.rank, [])
    return info.rank, order.index(auto_class) if auto_class in order else len(order)
