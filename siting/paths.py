"""Where the shipped data tables and scenario files live (checkout or installed package)."""

from pathlib import Path

_HERE = Path(__file__).resolve().parent
# installed wheel: siting/data and siting/models; source checkout / editable: ../data, ../models
DATA_DIR = _HERE / "data" if (_HERE / "data").is_dir() else _HERE.parent / "data"
MODELS_DIR = _HERE / "models" if (_HERE / "models").is_dir() else _HERE.parent / "models"
