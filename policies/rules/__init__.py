"""Rules by domain; each module exports POLICIES, one policy per validator."""
