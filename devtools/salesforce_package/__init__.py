"""Tooling around the Salesforce DX project in ``salesforce/``: offline conversion with Salesforce's own
library (``convert``) and the deployable copy with the stack's endpoint (``render``)."""
