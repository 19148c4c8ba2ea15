import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, TextField, Value
from django.db.models.functions import Cast
from django.urls import reverse

SEARCH_CONFIG = "english"


def _search_document() -> SearchVector:
    """Stem (weight A), option texts (B) and explanation (C). PostgreSQL's parser reads HTML
    tags and entities as tokens it does not index, so "39&nbsp;weeks" is "39 weeks"."""
    option_texts = Func(
        F("options"),
        Value("$[*].text", output_field=TextField()),
        function="jsonb_path_query_array",
        output_field=models.JSONField(),
    )
    # jsonb's text form escapes quotes (src=\"...\"), which would hide tags from the parser.
    options = Func(
        Cast(option_texts, TextField()),
        Value('\\"', output_field=TextField()),
        Value('"', output_field=TextField()),
        function="replace",
        output_field=TextField(),
    )
    return (
        SearchVector("stem_html", weight="A", config=SEARCH_CONFIG)
        + SearchVector(options, weight="B", config=SEARCH_CONFIG)
        + SearchVector("explanation_html", weight="C", config=SEARCH_CONFIG)
    )


class Bank(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="banks", blank=True)
    # Practice blocks draw only from banks their owner opened for practice: a bank behind an
    # assigned exam is exam material, not a quiz pool, unless the instructor says otherwise.
    is_open_for_practice = models.BooleanField(default=False)
    # The upload preview's column-mapping step, remembered for the next spreadsheet: a header
    # as the instructor's files write it -> one of our column names ("" ignores the column).
    column_map = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("teach:bank_detail", args=[self.uuid])


class Tag(models.Model):
    """A content-outline label. Tags with no bank are the USMLE outline's shared vocabulary."""

    class Kind(models.TextChoices):
        DISCIPLINE = "discipline", "Discipline"
        SYSTEM = "system", "System"
        TASK = "task", "Physician task"
        TOPIC = "topic", "Topic"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    slug = models.SlugField(max_length=120)
    name = models.CharField(max_length=200)
    bank = models.ForeignKey(Bank, null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "slug"],
                condition=models.Q(bank__isnull=True),
                name="tag_outline_unique",
            ),
            models.UniqueConstraint(fields=["kind", "slug", "bank"], name="tag_bank_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class ItemSet(models.Model):
    """Questions that share one stimulus: a sequential set about one patient, or an abstract."""

    class Kind(models.TextChoices):
        SEQUENTIAL = "sequential", "Sequential item set"
        ABSTRACT = "abstract", "Shared stimulus (abstract)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="item_sets")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    external_id = models.CharField(max_length=200)
    stimulus_html = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bank", "external_id"], name="itemset_external_id"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id}"


class Question(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="questions")
    external_id = models.CharField(max_length=200)
    # Points at the newest version; delivery reads it in the same query as the question.
    current_version = models.ForeignKey(
        "QuestionVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.ManyToManyField(Tag, related_name="questions", blank=True)
    item_set = models.ForeignKey(
        ItemSet, null=True, blank=True, on_delete=models.SET_NULL, related_name="questions"
    )
    set_position = models.PositiveSmallIntegerField(null=True, blank=True)
    is_retired = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bank", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "external_id"], name="question_external_id"),
            models.CheckConstraint(
                condition=models.Q(item_set__isnull=True) | models.Q(set_position__isnull=False),
                name="question_set_position_required",
            ),
        ]
        indexes = [models.Index(fields=["bank", "is_retired"])]

    def __str__(self) -> str:
        return f"{self.bank.slug}/{self.external_id}"

    def get_absolute_url(self) -> str:
        return reverse("teach:question_detail", args=[self.uuid])


class QuestionVersion(models.Model):
    """An immutable snapshot of a question. Responses point at the version that was shown."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    stem_html = models.TextField()
    # [{"text": "<sanitised html>", "explanation": "<sanitised html>"}, ...] in display order.
    options = models.JSONField()
    key_index = models.PositiveSmallIntegerField()
    # A voided item is credited to everyone who was shown it (a flawed item found after the
    # exam); set on a new version by a rescore, so the responses moved to it score that way.
    is_voided = models.BooleanField(default=False)
    explanation_html = models.TextField(blank=True)
    objective_html = models.TextField(blank=True)
    difficulty = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=300, blank=True)
    licence = models.CharField(max_length=200, blank=True)
    # sha256 of the canonical content: re-importing an unchanged question is detected by it.
    content_hash = models.CharField(max_length=64)
    # The files this version's HTML shows: the media view serves a file only to someone who may
    # see a question using it, so the relation is explicit rather than read back from the HTML.
    media = models.ManyToManyField("Media", related_name="versions", blank=True)
    # Full-text search over the words the examinee reads (questions/selectors.py searches it).
    search_vector = models.GeneratedField(
        expression=_search_document(), output_field=SearchVectorField(), db_persist=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["question", "number"]
        indexes = [GinIndex(fields=["search_vector"], name="version_search_gin")]
        constraints = [
            models.UniqueConstraint(fields=["question", "number"], name="version_number"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="version_number_pos"),
            models.CheckConstraint(
                condition=models.Q(difficulty__isnull=True)
                | (models.Q(difficulty__gte=0) & models.Q(difficulty__lte=1)),
                name="version_difficulty_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question} v{self.number}"

    def clean(self) -> None:
        if not isinstance(self.options, list) or len(self.options) < 2:
            raise ValidationError({"options": "A question needs at least 2 options."})
        if len(self.options) > 26:
            raise ValidationError({"options": "A question has at most 26 options (A to Z)."})
        if self.key_index is None or not 0 <= self.key_index < len(self.options):
            raise ValidationError({"key_index": "The key must point at one of the options."})

    @property
    def letters(self) -> list[str]:
        return [chr(ord("A") + i) for i in range(len(self.options))]

    @property
    def key_letter(self) -> str:
        return chr(ord("A") + self.key_index)

    def credits(self, choice: int | None) -> bool:
        """Whether this answer scores: the key, or anything at all on a voided item."""
        return self.is_voided or (choice is not None and choice == self.key_index)


def credited_q(prefix: str = "") -> models.Q:
    """The `credits` rule as a filter over responses (prefix for a related response)."""
    return models.Q(**{f"{prefix}version__is_voided": True}) | models.Q(
        **{f"{prefix}choice": F(f"{prefix}version__key_index")}
    )


def media_upload_to(instance: "Media", filename: str) -> str:
    return f"questions/{instance.bank_id}/{instance.uuid}-{filename}"


class Media(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="media")
    file = models.FileField(upload_to=media_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bank", "sha256"], name="media_sha256")]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("questions:media", args=[self.uuid])


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="import_jobs")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    upload = models.FileField(upload_to="imports/", max_length=300)
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=16, default="auto")
    skip_unsupported = models.BooleanField(default=False)
    # The bank's column mapping as the confirmed preview used it, so the job reads the same.
    column_map = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} → {self.bank.slug} ({self.status})"


class StoredFile(models.Model):
    """One file of the default storage (questions.storage.DatabaseStorage): media and uploads
    live in PostgreSQL, so every web node and worker reads the same files, and a file written
    inside an import's transaction goes when that transaction rolls back."""

    name = models.CharField(max_length=300, unique=True)
    size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gte=0), name="stored_file_size")
        ]

    def __str__(self) -> str:
        return self.name


class StoredChunk(models.Model):
    """A piece of a StoredFile, so a file is written and read in bounded pieces, never whole."""

    file = models.ForeignKey(StoredFile, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["file", "index"], name="stored_chunk_index")]

    def __str__(self) -> str:
        return f"{self.file_id}#{self.index}"
