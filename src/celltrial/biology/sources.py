"""Provenance tags shared by the standard model's parameter declarations.

Tags follow ../shared/reference/science.md: [R] read in the source, [K] known (textbook or
widely quoted, not re-read), [E] our estimate or a structural choice, [X] reconstructed,
[F] fitted by a script in this repository (rerun it to reproduce the value).
"""

KIMMEL = "[R] Kimmel, Locke & Altrock 2021 Proc R Soc B 288:20210229, Table 1"
STEIN = "[R] Stein et al. 2019 CPT PSP 8:285 (tisagenlecleucel CK model), Table 1"
AVANZINI = "[R] Avanzini et al. 2020 Sci Adv 6:eabc4308 (ctDNA shedding model)"
DEPILLIS = "[R] de Pillis, Radunskaya & Wiseman 2005 Cancer Res 65:7950"
GATTINONI = "[E] ordering from Gattinoni 2011 Nat Med 17:1290 (less differentiated: more potential, less killing)"
KIROUAC = "[E] structure from Kirouac 2023 Nat Biotechnol (memory regeneration when antigen falls)"
SANTURIO = "[E] structure from Santurio 2025 PLoS Comput Biol (three macrophage activation routes)"
HVG = "[E] science.md 2.3: no quantitative host-versus-graft model published"
LQ = "[K] linear-quadratic radiobiology"
CALIBRATED = "[E] chosen by hand to give the behaviour bands of issue 3 (see docs/standard-model.md)"
FITTED = ("[F] joint fit to axi-cel (Kimmel 2021) and tisa-cel (Stein 2019) typical kinetics with the "
          "progeny-budget structure: scripts/calibrate_kinetics.py")
PROGENY = ("[E] limited proliferative potential falling with differentiation (Gattinoni 2011 Nat Med 17:1290; "
           "Stein 2019 fold-expansion 1e2-1e5); scale fitted with the kinetics")
