"""Service commitments: the customer is told what happens without having to ask (proactive order updates, a
late follow-up owned up to) and is asked how it went (CSAT). Registered on the pipeline and the handoff manager
from the app layer (kefu/app/services.py), so the layers below know none of it."""
