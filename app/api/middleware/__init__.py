"""HTTP and WebSocket protection in front of every endpoint: small pure-ASGI
middlewares, one job each, stacked in app/server.py (outermost first):

- request_id.RequestId           X-Request-ID in, out and on every log line it causes
- timing.RequestTiming           every request's duration, into the metrics
- headers.SecurityHeaders        security headers (and CSP on HTML) on every answer
- authentication.Authenticate    who is calling (the Principal, or None); refuses nothing
- rate_limit.RateLimit           429 past the caller's budget
- authentication.RequireAuthentication  401 for a request that proves no identity
- masking.MaskErrors             an unexpected error becomes a bare 500, logged
- body_limit.BodyLimit           413 past ESS_MAX_BODY_BYTES

Refusals are written by refusal.refuse: the REST or GraphQL error shape, the status
and code from app/api/error_codes.py, and an audit line for a refused write.
"""
