"""Convert the MedQA US test split's Step 2&3 questions to Mockboard JSONL, with outline tags.

MedQA (Jin et al. 2021) has no subject tags, so every question gets one discipline, one system
and one physician task from a transparent rule set:

- **system**: weighted keyword/phrase scores over the vignette, with the question sentence and
  the text of the correct answer counted three times (the answer names the disease or action,
  which is the strongest signal). Ethics and statistics questions are routed first.
- **discipline**: pregnancy cues -> OB-GYN; psychiatric systems -> psychiatry; an age under 18
  (or a newborn/infant) -> pediatrics; gynecologic or breast content -> OB-GYN; operative,
  trauma or acute-abdomen cues (in the stem or the options) -> surgery; otherwise medicine.
- **task**: from the question sentence ("most likely diagnosis" -> pc-dx-diagnosis, "next step in
  management" -> pc-mgmt-mixed unless nearly all options are drugs/procedures/tests, "mechanism"
  -> medical-knowledge, ...).

After the rules, the committed overrides file (questions/demo/medqa_tag_overrides.json,
external_id -> {"discipline"?, "system"?, "task"?}) is applied: corrections made after reading the
questions. Keys left out of an override keep the rule's value.

Re-runnable and deterministic:

    .venv/bin/python scripts/tag_medqa.py                 # write questions/demo/medqa_step2ck.jsonl
    .venv/bin/python scripts/tag_medqa.py --report        # also print the tag distribution
    .venv/bin/python scripts/tag_medqa.py --show 40 --offset 0   # print questions for review
"""

from __future__ import annotations

import argparse
import collections
import html
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = Path("/work/shared/data/medqa")
OUT = ROOT / "questions" / "demo" / "medqa_step2ck.jsonl"
OVERRIDES = ROOT / "questions" / "demo" / "medqa_tag_overrides.json"
SOURCE = "MedQA (Jin et al. 2021), US test split"
LICENCE = "MIT"

# --- system keywords: (regex, weight). Matched case-insensitively on word boundaries. ---------
SYSTEM_RULES: dict[str, list[tuple[str, float]]] = {
    "human-development": [
        (r"well-child|well child|routine (?:health maintenance|checkup|examination)", 2),
        (r"developmental milestones?|milestone", 3),
        (r"growth chart|percentile for (?:height|weight)", 1.5),
        (r"normal (?:development|aging|finding)|puberty|tanner stage", 2),
        (r"reassurance", 1),
    ],
    "immune": [
        (r"anaphyla\w*|angioedema|urticaria|hives", 3),
        (r"immunodeficien\w*|\bHIV\b|AIDS|CD4\+? (?:T[- ]lymphocyte )?count", 3),
        (r"allerg\w*|transplant\w*|graft|rejection|vaccin\w*|immunization", 1.5),
        (r"immunoglobulin|complement|agammaglobulin\w*|chronic granulomatous", 2),
    ],
    "blood-lymphoreticular": [
        (r"an(?:a)?emia|hemoglobin|hematocrit|pancytopenia|thrombocytopeni\w*|neutropeni\w*", 2),
        (r"leukemia|lymphoma|myeloma|lymphadenopathy|splen\w+|sickle cell|thalassemia", 3),
        (r"bleeding|bruis\w*|petechia\w*|hemophilia|von Willebrand|coagulopathy", 1.5),
        (r"transfusion|platelet|prothrombin time|INR|heparin-induced|DIC\b|hemoly\w+", 1.5),
        (r"iron deficiency|ferritin|vitamin B12|folate|polycythemia|G6PD", 2.5),
        (r"myelofibrosis|hemolytic uremic|thrombotic thrombocytopenic|purpura|myelodysplastic", 3),
    ],
    "behavioral-health": [
        (r"depress\w*|suicid\w*|schizophreni\w*|bipolar|mania|manic|psychosis|psychotic", 3),
        (r"hallucinat\w*|delusion\w*|paranoi\w*|anxiety|panic|phobia|obsess\w*|compulsi\w*", 2.5),
        (r"post-?traumatic stress|PTSD|personality disorder|anorexia nervosa|bulimia|binge", 3),
        (r"attention-deficit|ADHD|autism|conduct disorder|oppositional|tic disorder|Tourette", 3),
        (r"alcohol (?:use|withdrawal|abuse)|opioid use|substance|cocaine|heroin|intoxicat\w*", 2),
        (r"psychiatr\w*|psychotherapy|cognitive behavioral|antidepressant|antipsychotic", 2),
        (r"SSRI|sertraline|fluoxetine|lithium|haloperidol|olanzapine|bupropion|insomnia", 2),
        (
            r"defense mechanisms?|grief|bereavement|somatic symptom|conversion disorder|malingering|factitious",
            3,
        ),
    ],
    "nervous-special-senses": [
        (r"stroke|seizure|epilep\w*|headache|migraine|syncope|dementia|Alzheimer|Parkinson", 2.5),
        (r"neuropath\w*|paresthesia|numbness|weakness of|hemiparesis|aphasia|ataxia", 2),
        (r"multiple sclerosis|Guillain|myasthenia|meningitis|encephalitis|subarachnoid", 3),
        (r"vision|visual|eye|ocular|retina\w*|glaucoma|cataract|pupil\w*|conjunctiv\w*", 2),
        (r"hearing|ear\b|otitis|tinnitus|vertigo|dizziness|nystagmus|cerebell\w*", 2),
        (r"cranial nerve|spinal cord|brain|intracranial|neurolog\w*|tremor|confusion", 1.5),
        (r"head trauma|concussion|lumbar puncture|cerebrospinal|CT (?:scan )?of the head", 2),
    ],
    "skin-subcutaneous": [
        (r"rash|lesion|papule|macule|vesic\w+|pustule|plaque|erythema\w*|pruritus|itch\w*", 2),
        (r"melanoma|nevus|mole|basal cell|squamous cell carcinoma of the skin|eczema", 3),
        (r"psoriasis|dermatitis|acne|cellulitis|abscess|burn\w*|pressure (?:ulcer|injury)", 2.5),
        (r"skin|wound|laceration|bite|alopecia|nail", 1.5),
        (r"tinea|KOH|potassium hydroxide|Wood lamp|hypopigment\w*|impetigo|scabies", 3),
    ],
    "musculoskeletal": [
        (r"fracture|joint|arthritis|arthralgia|gout|back pain|knee|hip|shoulder|ankle|wrist", 2),
        (r"osteo\w+|tendon|ligament|sprain|bursitis|muscle|myalgia|rhabdomyolysis", 2),
        (r"lupus|rheumatoid|ankylosing|polymyalgia|scleroderma|dermatomyositis|vasculitis", 2),
        (r"x-ray of the (?:hip|knee|spine|wrist|ankle|shoulder|hand|forearm|leg)", 2),
        (r"cast|splint|orthopedic|range of motion|scoliosis|dislocation|compartment", 2),
        (r"metatarsus|clubfoot|hip dysplasia|pseudogout|pyrophosphate|urate crystals", 3),
        (r"giant cell arteritis|temporal arteritis|jaw claudication|carpal tunnel|Osgood", 3),
    ],
    "cardiovascular": [
        (r"chest pain|myocardial infarction|angina|coronary|heart failure|cardiomyopath\w*", 3),
        (r"murmur|atrial fibrillation|arrhythmia|tachycardia|bradycardia|palpitations", 2.5),
        (r"hypertension|blood pressure|aortic|aneurysm|dissection|pericardi\w*|endocarditis", 2),
        (r"electrocardiogra\w*|ECG|EKG|echocardiograph\w*|troponin|cardiac|heart", 1.5),
        (r"deep venous thrombosis|deep vein thrombosis|DVT|peripheral arter\w*|claudication", 3),
        (r"statin|LDL|cholesterol|hyperlipidemia|carotid|edema", 1),
        (r"(?:artery|arterial) stenosis|popliteal|femoral artery|limb ischemia|embolization", 2.5),
    ],
    "respiratory": [
        (r"cough|dyspnea|shortness of breath|wheez\w*|pneumonia|asthma|COPD|emphysema", 2.5),
        (r"pulmonary embol\w*|pneumothorax|pleural|lung|bronch\w+|respiratory|apnea", 2),
        (r"tuberculosis|sarcoidosis|croup|epiglottitis|cystic fibrosis|spirometry|FEV1", 3),
        (r"x-ray of the chest|chest x-ray|oxygen saturation|hypoxemia|intubat\w*|ventilat\w*", 1),
        (r"sinusitis|pharyngitis|nasal|larynx|laryngeal|smoking|pack-years", 1),
    ],
    "gastrointestinal": [
        (r"abdominal pain|nausea|vomiting|diarrhea|constipation|hematochezia|melena", 2),
        (r"liver|hepat\w+|cirrhosis|jaundice|bilirubin|pancrea\w+|gallbladder|cholecyst\w*", 2.5),
        (r"append\w+|bowel|colon\w*|colitis|crohn|celiac|esophag\w+|gastr\w+|duoden\w+", 2.5),
        (r"hernia|intussusception|pyloric|volvulus|diverticul\w+|anal|rectal|hemorrhoid\w*", 2.5),
        (r"atresia|malrotation|Hirschsprung|meconium|achalasia|varices|peptic ulcer", 3),
        (r"dysphagia|abdomen|abdominal|stool|endoscopy|colonoscopy|ascites", 1.5),
    ],
    "renal-urinary": [
        (r"kidney|renal|nephr\w+|glomerul\w+|creatinine|urea nitrogen|dialysis|proteinuria", 2.5),
        (r"urinary|urine|urinalysis|hematuria|dysuria|bladder|ureter\w*|urethr\w*", 2),
        (r"hyponatremia|hypernatremia|hyperkalemia|hypokalemia|acidosis|alkalosis", 2),
        (r"pyelonephritis|cystitis|nephrolithiasis|kidney stone|incontinence|flank pain", 3),
    ],
    "pregnancy-childbirth-puerperium": [
        (r"pregnan\w+|weeks' gestation|gestation|prenatal|antenatal|trimester|gravida", 3),
        (r"labor|delivery|delivered|postpartum|cesarean|placenta\w*|fetal|fetus|uterine size", 2),
        (r"preeclampsia|eclampsia|ectopic|miscarriage|spontaneous abortion|breastfe\w+", 3),
        (r"amniotic|oligohydramnios|polyhydramnios|hCG|β-hCG", 2),
    ],
    "female-reproductive-breast": [
        (r"menstrua\w+|menses|amenorrhea|menorrhagia|dysmenorrhea|menopaus\w+|vagina\w*", 2.5),
        (r"breast|ovar\w+|uter\w+|cervix|endometri\w+|pelvic|adnexal|Pap smear|vulv\w+", 2),
        (r"cervical (?:cancer|dysplasia|motion|os|intraepithelial|length|cytology)", 2),
        (r"contracepti\w+|infertility|polycystic ovary|fibroid|leiomyoma|mammogra\w+", 3),
    ],
    "male-reproductive": [
        (
            r"testis|testes|testic\w+|scrot\w+|prostat\w+|erectile|penile|penis|hydrocele|varicocele",
            3,
        ),
        (r"cryptorchidism|hypospadias|epididym\w+|infertility in (?:a|the) man|PSA", 3),
    ],
    "endocrine": [
        (r"diabet\w+|insulin|glucose|HbA1c|hemoglobin A1c|hypoglycemi\w*|ketoacidosis", 2.5),
        (r"thyroid\w*|TSH|thyroxine|goiter|hyperthyroid\w*|hypothyroid\w*|parathyroid", 3),
        (r"adrenal|cortisol|Cushing|Addison|pheochromocytoma|aldosteron\w*|pituitar\w+", 3),
        (r"prolactin\w*|acromegaly|hypercalcemia|hypocalcemia|calcium|growth hormone", 2),
        (r"obesity|BMI|metformin|short stature|ambiguous genitalia|congenital adrenal", 1),
        (r"Graves|methimazole|propylthiouracil|levothyroxine|radioiodine", 3),
    ],
    "multisystem": [
        (r"sepsis|septic|shock|fever of unknown origin|overdose|poisoning|toxicity", 2.5),
        (r"ingest\w+|carbon monoxide|heat stroke|hypothermia|malnutrition|vitamin deficiency", 2.5),
        (r"ethylene glycol|methanol|fomepizole|antidote|acetaminophen overdose|salicylate", 3),
        (r"trauma|motor vehicle|collision|gunshot|stab wound|multiple injuries", 1.5),
        (r"syndrome|genetic|chromosom\w+|trisomy|Down syndrome|Turner|Marfan|neurofibromat", 1),
        (r"fever|metastat\w+|malignancy|cancer", 0.5),
    ],
}

ETHICS_RE = re.compile(
    r"confidential|informed consent|\bconsent\b|decision-making capacity|surrogate|"
    r"advance directive|power of attorney|do-not-resuscitate|DNR|disclos\w+|ethic\w*|"
    r"autonomy|refus\w+ (?:treatment|transfusion|surgery|the)|legal|court|report (?:this|the)|"
    r"child protective|abuse|neglect|medical error|apolog\w+|colleague|impaired physician|"
    r"gift|conflict of interest|interpreter|insurance|Medicare|Medicaid",
    re.I,
)
ETHICS_QUESTION_RE = re.compile(
    r"most appropriate (?:response|action|statement|course of action)|"
    r"what (?:should|would) (?:the|you)|how should|best (?:response|initial response)|"
    r"most appropriate way|which of the following is the (?:most )?appropriate (?:response|action)",
    re.I,
)
SAFETY_RE = re.compile(
    r"medical error|patient safety|near miss|root cause|quality improvement|checklist|"
    r"handoff|hand-off|prevent (?:this|similar|future) (?:error|event)|systems? (?:error|failure)|"
    r"wrong (?:patient|site|dose)|incident report|sentinel event|readmission",
    re.I,
)
BIOSTAT_RE = re.compile(
    r"sensitivity|specificity|predictive value|likelihood ratio|confidence interval|"
    r"p-value|p value|null hypothesis|type (?:I|II|1|2) error|statistical power|\bpower of\b|"
    r"odds ratio|relative risk|hazard ratio|attributable risk|number needed to|"
    r"incidence|prevalence|study design|cohort study|case-control|cross-sectional study|"
    r"randomized (?:controlled )?(?:clinical )?trial|meta-analysis|bias|confound\w*|"
    r"investigators?|researchers?|study population|enroll\w*|statistical|blinded|"
    r"lead-time|length-time|false-positive rate|receiver operating|cutoff",
    re.I,
)

DRUG_RE = re.compile(
    r"(?:mab|nib|pril|sartan|olol|dipine|azole|mycin|cillin|cycline|floxacin|statin|"
    r"prazole|tidine|parin|xaban|gatran|arin|done|pam|lam|zepam|azine|pine|ine|ide|one|tal|"
    r"ate|il|ol|ium|ase|in|cin|vir|mide|thiazide|sone|lone|zide|pride|tant|xetine|amine)\b",
    re.I,
)
DRUG_WORDS_RE = re.compile(
    r"therapy|administration|^(?:oral|intravenous|IV|intramuscular|topical|inhaled|"
    r"subcutaneous|high-dose|low-dose)\b|\bmg\b|supplementation|insulin|aspirin|"
    r"acetaminophen|epinephrine|antibiotic|steroid|vaccine|immunoglobulin|"
    r"corticosteroids?|hormone|drops|ointment|cream|colchicine|inhaler",
    re.I,
)
PROCEDURE_RE = re.compile(
    r"\w+(?:ectomy|otomy|ostomy|plasty|pexy|rrhaphy)\b|surg\w+|repair|drainage|"
    r"debridement|excision|resection|amputation|intubation|transfusion|catheteri\w+|"
    r"reduction|fixation|embolization|angioplasty|stent|bypass|dialysis|cardioversion|"
    r"decompression|tube (?:placement|insertion)|thoracostomy|ligation|delivery|induction of "
    r"labor|dilation and curettage|cerclage|paracentesis|thoracentesis|irrigation|"
    r"lavage|exploration|biopsy|splint|cast|incision",
    re.I,
)
TEST_RE = re.compile(
    r"\bCT\b|MRI|ultrasonograph\w*|ultrasound|x-ray|radiograph\w*|scan|"
    r"\w+scopy|\w+graphy|\w+gram\b|biopsy|measurement|serum|urine|assay|test\w*|culture|"
    r"panel|level|count|smear|electrocardiogra\w+|echocardiograph\w*|screening|"
    r"aspiration|analysis|stain",
    re.I,
)

# Task rules on the question sentence, first match wins (after ethics/biostat routing).
TASK_RULES: list[tuple[str, str]] = [
    (
        r"prevent\w*|screen\w*|vaccin\w*|immuniz\w*|counsel\w*|risk reduction|"
        r"health maintenance|recommended for this patient at this time|prophyla\w+|"
        r"most appropriate recommendation|decreas\w+ (?:the|her|his) risk",
        "pc-mgmt-health-maintenance",
    ),
    (
        r"mechanism|pathophysiolog\w*|pathogenesis|most likely (?:involved|responsible|"
        r"mediat\w*)|mode of inheritance|inheritance|cell type|enzyme|"
        r"most likely (?:site|location) of|structure|receptor|deficien\w+ of which",
        "medical-knowledge",
    ),
    (
        r"adverse effect|side effect|drug-drug|interaction|most likely (?:caused by|due to) "
        r"(?:a|an|the) (?:drug|medication)|concern with the initiation",
        "pc-mgmt-pharmacotherapy",
    ),
    (
        r"pharmacotherap\w+|\b(?:drugs?|medications?|antibiotics?|pharmacologic\w*)\b|"
        r"treated with|\bdose\b|should (?:also )?be (?:started|administered|added|given|prescribed"
        r"|avoided|discontinued)|regimen",
        "pc-mgmt-pharmacotherapy",
    ),
    (
        r"confirm|establish the diagnosis|next step in (?:diagnosis|evaluation)|"
        r"diagnostic (?:study|test|step|modality|procedure|evaluation)|"
        r"(?:tests?|study|studies|imaging|evaluation) (?:should|would|is|are|will)|ordered|"
        r"most appropriate (?:initial )?(?:test|diagnostic|study|investigation|evaluation)|"
        r"most likely to (?:show|reveal|be found on|be seen|confirm|demonstrate)|"
        r"(?:laboratory|lab|further|additional) (?:studies|evaluation|testing|findings?)|"
        r"(?:likely|expected) to (?:show|reveal)|x-ray|imaging|"
        r"biopsy|would be expected|expected to (?:show|be)|most likely (?:be )?(?:found|seen|"
        r"show)|best (?:test|diagnostic)|most sensitive|most specific|workup|assess\w*",
        "pc-dx-lab-diagnostic",
    ),
    (
        r"prognos\w*|complication|greatest risk|increased risk|at risk|most likely to develop|"
        r"most likely outcome|likely course|long-term|survival|recurrence|will most likely",
        "pc-dx-prognosis",
    ),
    (
        r"physical examination|history|additional (?:finding|symptom)|on examination|"
        r"most likely to be present",
        "pc-dx-history-physical",
    ),
    (
        r"next (?:best )?step|first step|course of action|most appropriate (?:initial |next )?"
        r"(?:step|management|action|intervention)|initial management|best management|"
        r"most appropriate initial|should be (?:done|performed)|changes should be made",
        "pc-mgmt-mixed",
    ),
    (
        r"(?:most appropriate|best|definitive|initial) (?:treatment|therapy)|"
        r"most effective|treatment of choice|treatment option",
        "pc-mgmt-mixed",
    ),
    (
        r"diagnos\w+|most likely cause|most likely explanation|best explains|etiology|"
        r"underlying|most likely (?:condition|disorder|disease|pathogen|organism|finding)|"
        r"most likely (?:the )?(?:reason|source|result)|accounts for|contribut\w+",
        "pc-dx-diagnosis",
    ),
]
TASK_RULES_RE = [(re.compile(p, re.I), t) for p, t in TASK_RULES]
SYSTEM_RULES_RE = {
    s: [(re.compile(r"\b(?:" + p + r")\b", re.I), w) for p, w in rules]
    for s, rules in SYSTEM_RULES.items()
}

PREGNANCY_RE = re.compile(
    r"pregnan\w+|weeks' gestation|\bgravida\b|\bG\d ?P\d|postpartum|\bin labor\b|"
    r"prenatal visit|trimester|delivered (?:a|an|her)|after (?:vaginal )?delivery|cesarean",
    re.I,
)
NOT_PREGNANT_RE = re.compile(
    r"(?:urine |serum )?pregnancy test(?: is| was)? negative|negative (?:urine |serum )?"
    r"pregnancy test|not pregnant|(?:urine |serum )?pregnancy test",
    re.I,
)
NEWBORN_RE = re.compile(
    r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)-(?:day|week|month)-old|"
    r"\bnewborn|\bneonate|\binfant\b|\btoddler|\b(?:boy|girl)\b",
    re.I,
)
AGE_RE = re.compile(r"\b(\d{1,3})-year-old\b", re.I)
SURGERY_RE = re.compile(
    r"emergency department (?:after|because of|following) (?:a|an|being)|motor vehicle|"
    r"collision|gunshot|stab wound|fall from|fell from|trauma|injur\w+|postoperative|"
    r"after (?:an? )?(?:\w+ )?(?:surgery|operation|repair|resection|appendectomy|"
    r"cholecystectomy)|underwent|laparo\w+|surgical|appendicitis|cholecystitis|"
    r"bowel obstruction|hernia|burn\w*|fracture|rebound tenderness|guarding|"
    r"peritoneal signs|acute abdomen|intussusception|pyloric stenosis|volvulus|"
    r"aortic (?:aneurysm|dissection)|compartment syndrome|testicular torsion|"
    r"breast mass|lump in (?:her|the) breast|pneumothorax|laceration|wound",
    re.I,
)
GYN_SYSTEMS = {"female-reproductive-breast", "pregnancy-childbirth-puerperium"}


def parse_age_years(text: str) -> float | None:
    """The patient's age from the opening of the vignette ("A 34-year-old", "A 6-month-old")."""
    head = text[:200]
    m = AGE_RE.search(head)
    if m:
        return float(m.group(1))
    m = re.search(
        r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven)-"
        r"(day|week|month)-old",
        head,
        re.I,
    )
    if m:
        return 0.5
    if re.search(r"\bnewborn|\bneonate|\binfant\b", head, re.I):
        return 0.0
    return None


def question_sentence(text: str) -> str:
    """The sentence that asks the question: the last one ending in "?", else the last one."""
    text = text.strip().rstrip('"').strip()
    if "?" in text:
        text = text[: text.rindex("?") + 1]
    parts = re.split(r"(?<=[.?!:])\s+", text)
    return parts[-1].strip() if parts else text


def score_systems(stem: str, question: str, answer: str) -> collections.Counter[str]:
    scores: collections.Counter[str] = collections.Counter()
    for system, rules in SYSTEM_RULES_RE.items():
        for regex, weight in rules:
            hits = len(regex.findall(stem))
            if hits:
                scores[system] += weight * min(hits, 3)
            if regex.search(question):
                scores[system] += weight * 2
            if regex.search(answer):
                scores[system] += weight * 5
    return scores


def option_kind(options: list[str]) -> str | None:
    """'drug', 'procedure' or 'test' when nearly every option is of that kind."""
    kinds = collections.Counter()
    for opt in options:
        if PROCEDURE_RE.search(opt):
            kinds["procedure"] += 1
        elif TEST_RE.search(opt):
            kinds["test"] += 1
        elif DRUG_WORDS_RE.search(opt) or DRUG_RE.search(opt.split(" ")[0]):
            kinds["drug"] += 1
    if not kinds:
        return None
    kind, count = kinds.most_common(1)[0]
    return kind if count >= len(options) - 1 else None


def tag_task(question: str, options: list[str]) -> str:
    for regex, task in TASK_RULES_RE:
        if regex.search(question):
            if task in ("pc-mgmt-mixed",):
                kind = option_kind(options)
                return {
                    "drug": "pc-mgmt-pharmacotherapy",
                    "procedure": "pc-mgmt-clinical-interventions",
                    "test": "pc-dx-lab-diagnostic",
                }.get(kind, "pc-mgmt-mixed")
            return task
    return "pc-dx-diagnosis"


def tag_question(text: str, options: list[str], answer: str) -> dict[str, str]:
    question = question_sentence(text)
    vignette = text
    opts_text = " ".join(options)

    if BIOSTAT_RE.search(question) or len(BIOSTAT_RE.findall(vignette)) >= 3:
        discipline = "pediatrics" if (parse_age_years(vignette) or 99) < 18 else "medicine"
        return {
            "discipline": discipline,
            "system": "biostatistics-epidemiology",
            "task": "practice-based-learning",
        }
    is_ethics = ETHICS_QUESTION_RE.search(question) and (
        ETHICS_RE.search(vignette) or ETHICS_RE.search(opts_text)
    )
    if SAFETY_RE.search(vignette) and ETHICS_QUESTION_RE.search(question):
        system, task = "social-sciences", "systems-based-practice"
    elif is_ethics:
        system, task = "social-sciences", "professionalism"
        if re.search(r"most appropriate (?:response|statement)|say", question, re.I):
            task = "communication"
    else:
        scores = score_systems(vignette, question, answer)
        system = scores.most_common(1)[0][0] if scores else "multisystem"
        task = tag_task(question, options)

    age = parse_age_years(vignette)
    opening = NOT_PREGNANT_RE.sub("", vignette[:600])
    pregnant = bool(PREGNANCY_RE.search(opening)) or system in {"pregnancy-childbirth-puerperium"}
    is_child = (age is not None and age < 18) or (age is None and NEWBORN_RE.search(vignette[:200]))
    if pregnant and not (is_child and (age is None or age < 1)):
        discipline = "obstetrics-gynecology"
    elif system == "behavioral-health":
        discipline = "psychiatry"
    elif is_child:
        discipline = "pediatrics"
    elif system in GYN_SYSTEMS and not re.search(r"\bman\b|\bmale\b", vignette[:120]):
        discipline = "obstetrics-gynecology"
    elif len(SURGERY_RE.findall(vignette)) >= 2 or (
        SURGERY_RE.search(vignette) and PROCEDURE_RE.search(answer)
    ):
        discipline = "surgery"
    else:
        discipline = "medicine"
    return {"discipline": discipline, "system": system, "task": task}


def stem_html(text: str) -> str:
    text = text.strip()
    # 69 upstream stems end with a stray quotation mark.
    if text.endswith('"') and text.count('"') % 2 == 1:
        text = text[:-1].rstrip()
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)


def load_rows(src: Path) -> list[dict]:
    five = [json.loads(line) for line in (src / "us_5options_test.jsonl").open(encoding="utf-8")]
    four = [json.loads(line) for line in (src / "us_4options_test.jsonl").open(encoding="utf-8")]
    if len(five) != len(four):
        raise SystemExit("the 4- and 5-option files are not line-aligned")
    rows = []
    for line_no, (q5, q4) in enumerate(zip(five, four, strict=True)):
        # The README says realidx is the line index, the same in both files; check it.
        if q4["realidx"] != line_no or q4["question"] != q5["question"]:
            raise SystemExit(f"line {line_no}: the two files disagree")
        if q5["meta_info"] != "step2&3":
            continue
        letters = sorted(q5["options"])
        if q5["options"][q5["answer_idx"]] != q5["answer"]:
            raise SystemExit(f"line {line_no}: answer text does not match the key")
        rows.append(
            {
                "external_id": f"medqa-us-test-{q4['realidx']}",
                "text": q5["question"],
                "options": [q5["options"][k] for k in letters],
                "key": q5["answer_idx"],
                "answer": q5["answer"],
            }
        )
    return rows


def build(src: Path) -> list[dict]:
    # The hand review is split over several files (one per reviewer pass), merged in name order.
    overrides: dict = {}
    for path in sorted(OVERRIDES.parent.glob("medqa_tag_overrides*.json")):
        part = json.loads(path.read_text(encoding="utf-8"))
        part.pop("_comment", None)
        part.pop("_reviewed", None)
        overrides.update(part)
    out = []
    for row in load_rows(src):
        tags = tag_question(row["text"], row["options"], row["answer"])
        tags.update({k: v for k, v in overrides.get(row["external_id"], {}).items() if k in tags})
        out.append(
            {
                "external_id": row["external_id"],
                "stem": stem_html(row["text"]),
                "options": row["options"],
                "key": row["key"],
                "explanation": "",
                "objective": "",
                "tags": {k: [v] for k, v in tags.items()},
                "source": SOURCE,
                "licence": LICENCE,
            }
        )
    unknown = set(overrides) - {r["external_id"] for r in out}
    if unknown:
        raise SystemExit(f"overrides for unknown questions: {sorted(unknown)[:5]}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--report", action="store_true", help="print the tag distribution")
    parser.add_argument("--show", type=int, default=0, help="print N questions for review")
    parser.add_argument("--offset", type=int, default=0)
    args = parser.parse_args(argv)

    questions = build(args.src)
    with args.out.open("w", encoding="utf-8") as fh:
        for q in questions:
            fh.write(json.dumps(q, ensure_ascii=False) + "\n")
    print(f"wrote {len(questions)} questions to {args.out.relative_to(ROOT)}", file=sys.stderr)

    if args.report:
        for kind in ("discipline", "system", "task"):
            counts = collections.Counter(q["tags"][kind][0] for q in questions)
            print(f"\n{kind}:")
            for slug, n in counts.most_common():
                print(f"  {slug:34} {n:4}  {100 * n / len(questions):5.1f}%")
    for q in questions[args.offset : args.offset + args.show]:
        text = html.unescape(re.sub(r"<[^>]+>", " ", q["stem"]))
        letter = q["key"]
        answer = q["options"][ord(letter) - ord("A")]
        print(f"\n## {q['external_id']}  {[v[0] for v in q['tags'].values()]}")
        print(f"{text[:200]} … {question_sentence(text)[-160:]}")
        print(f"   options: {' | '.join(q['options'])}   KEY {letter}: {answer}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
