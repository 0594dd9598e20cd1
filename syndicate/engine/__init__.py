"""From a post to its copies: plan, fit, dispatch (in-process or Celery), publish and record."""
