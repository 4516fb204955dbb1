"""cxpulse: what customers said on every channel, and how well the company answered."""

__version__ = "0.1.0"
