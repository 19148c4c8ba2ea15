FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# collectstatic reads the settings but connects to nothing; compose sets the real URLs.
RUN SECRET_KEY=build-only DATABASE_URL=postgres://build@db/build \
    CELERY_BROKER_URL=redis://redis:6379/0 python manage.py collectstatic --noinput
USER nobody
