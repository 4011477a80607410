"""Reads for users and sessions."""

from __future__ import annotations

from sqlmodel import Session, col, select

from backend.identity.models import User, UserSession


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def user_by_subject(session: Session, issuer: str, subject: str) -> User | None:
    stmt = select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    return session.exec(stmt).first()


def session_by_hash(session: Session, token_hash: str) -> UserSession | None:
    return session.exec(select(UserSession).where(UserSession.token_hash == token_hash)).first()


def active_sessions(session: Session, user_id: int) -> list[UserSession]:
    stmt = select(UserSession).where(
        UserSession.user_id == user_id, col(UserSession.revoked_at).is_(None)
    )
    return list(session.exec(stmt))


def list_users(session: Session, *, text: str = "", include_inactive: bool = False) -> list[User]:
    stmt = select(User).order_by(col(User.name))
    if not include_inactive:
        stmt = stmt.where(col(User.is_active).is_(True))
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(col(User.name).ilike(like) | col(User.email).ilike(like))
    return list(session.exec(stmt))
