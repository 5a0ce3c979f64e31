# anrc serve with the shipped model, in a container.
#
#   docker build -t anrc .
#   docker run --rm -p 127.0.0.1:8000:8000 -e ANRC_API_KEY=change-me anrc
#   then open http://127.0.0.1:8000/ (the page asks for the key)
#
# Untested: the machines this project is built on have no Docker engine and no access
# to Docker Hub, so this file has never been built here (see README, "Serving").
# The container listens on all its interfaces (it must, for -p to reach it); the -p
# above publishes the port on the host's loopback only. Set ANRC_API_KEY, and put a
# reverse proxy with TLS in front before exposing it further.
FROM python:3.11-slim

# PyTorch's CPU wheel first: from PyPI, torch would pull several GB of CUDA libraries.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip install --no-cache-dir '.[serve]' && useradd --create-home anrc
USER anrc

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"
CMD ["anrc", "serve", "semeval", "--host", "0.0.0.0", "--port", "8000"]
