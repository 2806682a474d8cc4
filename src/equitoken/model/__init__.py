"""Value types shared by every layer: identifiers, amounts, instruments."""
