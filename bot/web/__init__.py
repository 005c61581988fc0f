"""The Relais web server (aiohttp): the chat page, its JSON API, the directory API and health.

Routes, one module per resource:
  GET  /                    the chat page                      pages.py
  GET  /staff               the staff lookup page              pages.py
  GET  /static/{name}       the pages' files, by name          pages.py
  POST /api/chat            a chat turn                        chat.py (Rasa: rasa_client.py)
  GET  /health              state of each part of the stack    health.py
  GET  /api/directory/...   the directory's JSON API           directory_routes.py
  GET  /hsds/...            the services as Open Referral HSDS  hsds_routes.py (directory/hsds.py)
  GET/POST /admin/...       the back office (signed in only)   admin.py (directory/curation.py)

`app.py` builds the application and `__main__.py` serves it (`python -m
bot.web`, behind bot/http_guard.py). Every error is an `ApiError` answered by
one middleware as `{"error": {"code", "message"}}` (errors.py, middleware.py),
with the security headers on every response. To add an endpoint: a handler
in the module of its resource, its route in that module's `setup`, and its
errors raised as `ApiError`.
"""
