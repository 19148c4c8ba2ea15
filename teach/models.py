# Teach holds pages only; the rows it shows belong to questions, exams and analytics.
