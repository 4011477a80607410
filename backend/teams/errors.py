from __future__ import annotations

from backend.core.errors import AlreadyExists, Conflict, ErrorCode, NotFound


class TeamNotFound(NotFound):
    title = "Team not found"


class TeamNameTaken(AlreadyExists):
    title = "A team with that name already exists"


class MemberNotFound(NotFound):
    title = "Not a member of this team"


class AlreadyMember(AlreadyExists):
    title = "Already a member of this team"


class LastTeamAdmin(Conflict):
    code = ErrorCode.LAST_TEAM_ADMIN
    title = "The team would be left without an admin"


class TeamInUse(Conflict):
    code = ErrorCode.TEAM_IN_USE
    title = "The team still owns other things"
