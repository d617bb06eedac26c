"""What the service tells about itself: request logs, metrics, traces."""
