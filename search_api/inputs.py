"""Request bodies: the base model every JSON body of the API is read into.

JSON may carry text that no UTF-8 writer accepts: a lone surrogate (`"\\ud800"`) parses into a
Python string that OpenSearch's client, the audit trail and the CSV writers cannot encode. The
base model refuses such text anywhere in a body (422 naming the field), so it never gets past
the door; query strings cannot carry it (Starlette decodes them with replacement characters).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, model_validator

from indexer.model import valid_doc


class ApiModel(BaseModel):
    """A request body: any lone surrogate in it, keys included, is a validation error."""

    @model_validator(mode="before")
    @classmethod
    def _encodable(cls, data: Any) -> Any:
        if valid_doc(data) != data:
            raise ValueError("the body holds text that is not valid Unicode (a lone surrogate such as \\ud800)")
        return data
