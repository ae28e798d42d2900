# The CRM's image: web (gunicorn), worker and beat all run from it (see docker-compose.yml).
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY --from=assets /app/node_modules ./node_modules
COPY . .
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=build \
    DATABASE_URL=postgres://build/build CELERY_BROKER_URL=redis://build EMAIL_URL=smtp://build \
    python manage.py collectstatic --no-input \
 && useradd --system --home /app crm && mkdir -p /app/var /app/media && chown crm /app/var /app/media
USER crm
EXPOSE 8000
CMD ["gunicorn", "crm.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
