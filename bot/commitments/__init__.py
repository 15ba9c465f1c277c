"""Commitments: what people type, the due dates they mean, the lifecycle (kept, late, missed,
renegotiated), and the nudges that remind owners."""
