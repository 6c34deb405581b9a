"""Load the shipped disease and product presets (YAML files in ``presets/data``).

Every preset is validated on load: the schema (unknown fields are errors), parameter names
against the standard model (with a "did you mean"), and values against the declared bounds.

Example:
    >>> load_product("tisa-cel-like").kind
    't_cell'
    >>> "lbcl" in preset_names("disease")
    True
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import ValidationError

from ..biology import standard_model
from ..errors import PresetError, did_you_mean
from .schema import Disease, Product

_FOLDERS = {"disease": "diseases", "product": "products"}


def _folder(kind: str):
    if kind not in _FOLDERS:
        raise PresetError(f"preset kind must be one of {sorted(_FOLDERS)}, got {kind!r}")
    return resources.files("celltrial.presets").joinpath("data", _FOLDERS[kind])


def preset_names(kind: str) -> list:
    """Names of the shipped presets of ``kind`` ("disease" or "product"), sorted."""
    return sorted(p.name[:-5] for p in _folder(kind).iterdir() if p.name.endswith(".yaml"))


def _format_validation(err: ValidationError, where: str) -> str:
    lines = [f"{where} is not a valid preset:"]
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        value = e.get("input")
        lines.append(f"  - {loc}: {e['msg']} (got {value!r})" if e["type"] != "missing" else f"  - {loc}: missing")
    return "\n".join(lines)


def parse_preset(text: str, kind: str, where: str = "preset"):
    """Validate YAML ``text`` as a preset of ``kind``; errors name the field and the fix."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PresetError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PresetError(f"{where}: expected a mapping of fields at the top level")
    cls = Disease if kind == "disease" else Product
    try:
        preset = cls.model_validate(data)
    except ValidationError as exc:
        raise PresetError(_format_validation(exc, where)) from None
    check_parameters(preset.to_parameters(), where)
    for name in preset.variability:
        _check_name(name, f"{where}: variability")
    return preset


def _check_name(name, where):
    model = standard_model()
    if name not in model.parameter_names:
        raise PresetError(f"{where}: unknown parameter {name!r}{did_you_mean(name, model.parameter_names)}")


def check_parameters(values: dict, where: str) -> None:
    """Every name is a standard-model parameter and every value lies within its bounds."""
    model = standard_model()
    declared = {p.name: p for p in model.parameters}
    for name, value in values.items():
        _check_name(name, where)
        lo, hi = declared[name].bounds
        if not lo <= value <= hi:
            raise PresetError(f"{where}: {name} = {value:g} is outside its bounds [{lo:g}, {hi:g}] "
                              f"({declared[name].unit}); choose a value inside them")


@cache
def _load(kind: str, name: str):
    names = preset_names(kind)
    if name not in names:
        raise PresetError(f"no {kind} preset named {name!r}{did_you_mean(name, names)}; available: {names}")
    path = _folder(kind).joinpath(f"{name}.yaml")
    preset = parse_preset(path.read_text(), kind, where=f"{kind} preset {name!r}")
    if preset.name != name:
        raise PresetError(f"{kind} preset file {name}.yaml declares name {preset.name!r}; make them equal")
    return preset


def load_disease(name: str) -> Disease:
    """A shipped disease preset by name (e.g. "lbcl", "b-all", "ovarian")."""
    return _load("disease", name)


def load_product(name: str) -> Product:
    """A shipped product preset by name (e.g. "axi-cel-like", "ft596-like")."""
    return _load("product", name)


def combined_parameters(disease: Disease, *products: Product, overrides: dict | None = None) -> dict:
    """Model parameters of a disease with products (later ones win) and explicit overrides."""
    out = dict(disease.to_parameters())
    for product in products:
        out.update(product.to_parameters())
    out.update(overrides or {})
    check_parameters(out, "combined parameters")
    return out
