"""The service's README for whoever runs it next (`backsmith docs`), made from the model,
the settings' declaration and the latest test and bench results."""

from backsmith.verify.service_docs.write import (
    default_output,
    render_service_docs,
    write_service_docs,
)

__all__ = ["default_output", "render_service_docs", "write_service_docs"]
