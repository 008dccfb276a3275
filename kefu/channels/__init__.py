"""One module per channel, each implementing connectors.base.Channel."""
