"""Cross-origin resource sharing: bucket rules (docs/compatibility.md, CORS)."""
