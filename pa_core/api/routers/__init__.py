"""One router per resource; pa_core.api.factory mounts them under the API prefix."""
