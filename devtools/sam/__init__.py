"""AWS SAM and Lambda helpers: function packages, test tables from template.yaml, Lambda events, events/ samples."""
