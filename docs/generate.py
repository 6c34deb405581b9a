"""Regenerate the model pages in docs/models/ from the declarations: `python docs/generate.py`."""

from pathlib import Path

from celltrial.model import library
from celltrial.model.docs import model_markdown

MODELS = [library.cart6(), library.cart6(qss_ctdna=True), library.exponential_model(), library.logistic_model(),
          library.one_compartment_model(), library.robertson_model()]


def main():
    out = Path(__file__).with_name("models")
    out.mkdir(exist_ok=True)
    for model in MODELS:
        (out / f"{model.name}.md").write_text(model_markdown(model))


if __name__ == "__main__":
    main()
