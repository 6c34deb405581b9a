"""Named CRS and neurotoxicity grading scales, and how each is read from the model's signals.

Trials grade the same toxicity on different scales, so a comparison with a published rate needs
the scale that trial used. The model has one CRS signal (IL-6 receptor signalling) and one
neurotoxicity signal (the neuro-inflammation index ``NT``); a scale is a set of thresholds on
that signal, and two scales the model cannot tell apart are mapped onto the same grade
*explicitly* (``reads_as``), never by a silent alias.

CRS:

- ``astct2019`` (Lee 2019 BBMT 25:625) [R]: fever, then the worse of hypotension (grade 3: one
  vasopressor) and hypoxia (grade 3: high-flow oxygen). The model's own grade (``crs_grade``).
- ``lee2014`` (Lee 2014 Blood 124:188) [R]: grade 2 hypotension responds to fluids or one
  low-dose pressor, grade 3 needs high-dose or several pressors or FiO2 >= 40%, plus organ
  toxicity. Read as ASTCT: the JULIET regrading (Blood Adv 4:1432) moved Lee and ASTCT alike
  against Penn (lower for 20 and 23 of 64 patients) and Pennisi 2020 (Blood Adv 4:676) found
  them close; the organ-toxicity criteria that separate them have no signal in the model [E].
- ``cartox`` (Neelapu 2018 Nat Rev Clin Oncol 15:47; criteria [R] from a review table): the
  Lee 2014 criteria for hypotension, hypoxia and organ toxicity (grade 3: high-dose or multiple
  vasopressors, FiO2 >= 40%), read as ASTCT for the same reason [E].
- ``penn`` (Porter 2018 J Hematol Oncol 11:35) [R]: hypotension treated with fluids or low-dose
  pressors, or any supplemental oxygen, is already grade 3 - Penn grades the same event higher
  (ELIANA, JULIET). Thresholds for grades 2-4 are ``r_penn`` times the ASTCT ones (a model
  parameter fitted by the ELIANA case): ``crs_grade_penn``, never below ``crs_grade``.

Neurotoxicity:

- ``icans`` (ASTCT 2019, Lee 2019) [R]: ICE score, consciousness, seizures, motor findings,
  cerebral oedema.
- ``ctcae`` (CTCAE v4.03/v5.0 nervous system terms: encephalopathy, confusion, dysphasia,
  somnolence, seizure, tremor, headache) [R]. Read as the same grade as ICANS: the model cannot
  tell them apart. Its neurotoxicity thresholds ``icans_g1..4`` were fitted to trials that graded
  neurological events by CTCAE (ZUMA-1, ELIANA), so the one grade (column ``icans_grade``) is
  CTCAE-anchored. Where the scales differ - JULIET regraded (Maziarz 2020 Blood Adv 4:1440 [R]):
  any grade in 50 of 111 patients by CTCAE, 19 by ASTCT, 31 CTCAE events became grade 0 - the
  difference is mild non-specific events (headache, tremor) that the neuro-inflammation index
  does not represent; a lower grade-1 threshold cannot carry it across products (a JULIET ratio
  would put ICANS of any grade below CTCAE grade >= 3 for the axi-cel-like product - model: 62%
  any, 28% grade >= 3 - while axi-cel ICANS of any grade was 55% in Pennisi 2020 [R] and about
  69% in Nastoupil 2020 JCO [K]) [E]. Pennisi 2020 [R]: the scales agreed on whether ICANS
  occurred in 91% of patients. So an ICANS rate of any grade may be too high for products with
  many mild events (tisa-cel-like LBCL: model 50% vs JULIET 17% by ASTCT); grade >= 3 agrees
  better [E].

Not offered: MSKCC (Park 2018 NEJM 378:449; grade 3 needs vasopressors for 24 h or more) and
CRES (CARTOX neurotoxicity, superseded by ICANS). MSKCC's duration rule would need a duration of
the pressor-level signal the model does not calibrate [E].

Example:
    >>> crs_scale("lee2014").reads_as, crs_scale("lee2014").column
    ('astct2019', 'crs_grade')
    >>> neurotoxicity_scale("ctcae").reads_as
    'icans'
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError, did_you_mean


@dataclass(frozen=True)
class Scale:
    """A grading scale: its name in scenarios, its label in reports, the patients-table column
    holding its grade, the scale it is read as (itself unless the model cannot tell them apart),
    and its source."""

    name: str
    label: str
    column: str
    reads_as: str
    source: str


CRS_SCALES = {s.name: s for s in (
    Scale("astct2019", "ASTCT 2019", "crs_grade", "astct2019", "[R] Lee 2019 BBMT 25:625"),
    Scale("lee2014", "Lee 2014, read as ASTCT 2019", "crs_grade", "astct2019",
          "[K] Lee 2014 Blood 124:188 (criteria [R]); read as ASTCT [E] (Pennisi 2020 Blood Adv 4:676; "
          "JULIET regrading, Blood Adv 4:1432)"),
    Scale("cartox", "CARTOX, read as ASTCT 2019", "crs_grade", "astct2019",
          "[K] Neelapu 2018 Nat Rev Clin Oncol 15:47 (criteria [R]: those of Lee 2014); read as ASTCT [E]"),
    Scale("penn", "Penn", "crs_grade_penn", "penn",
          "[R] Porter 2018 J Hematol Oncol 11:35; thresholds 2-4 times r_penn (fitted by ELIANA)"),
)}
NEUROTOXICITY_SCALES = {s.name: s for s in (
    Scale("icans", "ICANS (ASTCT 2019)", "icans_grade", "icans", "[R] Lee 2019 BBMT 25:625"),
    Scale("ctcae", "CTCAE", "icans_grade", "icans",
          "[R] CTCAE v4.03/v5.0 nervous system terms; read as the model's one neurotoxicity grade, whose thresholds "
          "were fitted to CTCAE-graded ZUMA-1 and ELIANA [E]"),
)}
#: The scales a scenario uses unless it names others (the model's own grades: today's numbers).
DEFAULT_CRS, DEFAULT_NEUROTOXICITY = "astct2019", "icans"


def _scale(table: dict, kind: str, name: str) -> Scale:
    if name not in table:
        raise InputError(f"unknown {kind} grading scale {name!r}{did_you_mean(str(name), table)}; "
                         f"choose from {list(table)}")
    return table[name]


def crs_scale(name: str) -> Scale:
    """The CRS scale ``name`` (an InputError naming the known ones otherwise)."""
    return _scale(CRS_SCALES, "CRS", name)


def neurotoxicity_scale(name: str) -> Scale:
    """The neurotoxicity scale ``name`` (an InputError naming the known ones otherwise)."""
    return _scale(NEUROTOXICITY_SCALES, "neurotoxicity", name)


def scale_label(name, default: str) -> str:
    """Report label of a CRS or neurotoxicity scale name; a missing name (a run stored before scales
    were named, graded by the defaults) reads as ``default``, an unknown one as itself.

    Example:
        >>> scale_label("lee2014", "astct2019"), scale_label(None, "icans")
        ('Lee 2014, read as ASTCT 2019', 'ICANS (ASTCT 2019)')
    """
    name = default if name is None else name
    for table in (CRS_SCALES, NEUROTOXICITY_SCALES):
        if name in table:
            return table[name].label
    return str(name)
