"""Third-party server apps, one module each, run as ``python -m <module>`` on 127.0.0.1 port 0."""
