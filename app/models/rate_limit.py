"""Rate limits' counters, shared by every app process (`app/rate_limit_storage.py`)."""

from sqlalchemy import Double, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class RateLimitCounter(db.Model):
    """One limit's count for one key (an account, an address) in its current window. Written
    outside the request's transaction; a row whose window has ended counts as zero and is
    overwritten by the next hit, and swept now and then."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    # When the window ends, in seconds since the epoch, as the `limits` library counts time.
    expires_at: Mapped[float] = mapped_column(Double)

    def __repr__(self) -> str:
        return f"<RateLimitCounter {self.key} {self.count}>"
