from enum import StrEnum
from typing import Any


class ScopeEnum(StrEnum):
    MODEL = "Model"
    ORGANIZATION = "Organization"
    USER = "User"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> Any:
        """Keep a value this client does not know yet instead of raising ValueError.

        Servers add values over time; the unknown value becomes a pseudo-member whose
        ``value`` is the server's string, so it compares equal to that string and
        round-trips through ``to_dict``. Pseudo-members are not cached (a server cannot
        grow the class), so compare with ``==``, not ``is``.
        """
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member
