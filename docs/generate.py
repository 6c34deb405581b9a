"""Regenerate the generated docs pages from the declarations and preset files: `python docs/generate.py`.

Writes docs/models/<name>.md for every model in MODELS (the standard model included),
docs/presets.md from the shipped preset files, docs/references.md from the bibliography
(src/celltrial/presets/data/references.yaml), docs/scenarios.md from the scenario schema, and
refreshes the generated spans (counts) of the hand-written docs/standard-model.md.
"""

from pathlib import Path

from celltrial.biology import standard_model
from celltrial.model import library
from celltrial.model.docs import fill_generated, model_counts, model_markdown
from celltrial.presets.docs import presets_markdown, references_markdown
from celltrial.scenarios.docs import scenarios_markdown

MODELS = [library.cart6(), library.cart6(qss_ctdna=True), library.exponential_model(), library.logistic_model(),
          library.one_compartment_model(), library.robertson_model(), standard_model()]
DOCS = Path(__file__).resolve().parent


def main():
    out = DOCS / "models"
    out.mkdir(exist_ok=True)
    for model in MODELS:
        (out / f"{model.name}.md").write_text(model_markdown(model))
    (DOCS / "presets.md").write_text(presets_markdown())
    (DOCS / "references.md").write_text(references_markdown())
    page = DOCS / "standard-model.md"  # hand-written prose; only its generated spans change
    page.write_text(fill_generated(page.read_text(), model_counts(standard_model())))
    (DOCS / "scenarios.md").write_text(scenarios_markdown())


if __name__ == "__main__":
    main()
