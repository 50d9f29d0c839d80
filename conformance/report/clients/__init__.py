"""Third-party SSE clients wrapped in the client suite's target contract.

Each module exposes ``target(url, **optional)`` (generic profile: an iterable of events) and,
where the library has one, ``openai_target(url)`` (openai profile: the assembled text). Each
adapter uses the library the way its documentation shows and adds nothing the library lacks,
so what the suite finds is the library's behaviour. Targets declare ``capabilities``.
"""
