"""Push a run's model folder, with its model card, to the Hugging Face Hub.

    python -m studio push RUN_DIR --repo your-name/support-tickets [--public]

One commit holds the model folder (safetensors weights, tokenizer, config with the label names, the ONNX files
if `studio export` made them) and the card (studio.card, with the repository's id in its usage example).
Before anything is created it checks the three things that can be known here: the run has a model, a token is
there, the Hub answers; when one is missing it says so in one sentence and changes nothing, here or on the Hub.
"""
from __future__ import annotations

import os
from pathlib import Path

from .runs import Run

HUB_URL = "https://huggingface.co"


class HubError(RuntimeError):
    """The push cannot happen; the message says why and that nothing was changed."""


def _offline(environ=os.environ) -> bool:
    return str(environ.get("HF_HUB_OFFLINE", "")).lower() in ("1", "true", "yes", "on")


def check(run_dir: str | Path, repo: str, token: str | None = None) -> tuple[Run, str]:
    """(the run, the token) when a push can be tried; else HubError with the sentence."""
    from huggingface_hub import get_token
    from huggingface_hub.utils import HFValidationError, validate_repo_id
    run = Run(Path(run_dir))
    if not run.has_model():
        raise HubError(f"{run_dir} has no trained model; push a run that finished training. Nothing was uploaded.")
    try:
        validate_repo_id(repo)
    except HFValidationError:
        raise HubError(f"{repo!r} is not a Hub repository name; use NAME or OWNER/NAME with letters, digits, '-', "
                       "'_' and '.'. Nothing was uploaded.") from None
    if _offline():
        raise HubError("The Hugging Face Hub cannot be reached: the studio runs offline here (HF_HUB_OFFLINE is set). "
                       "Nothing was uploaded.")
    token = token or get_token()
    if not token:
        raise HubError("There is no Hugging Face token: log in with `hf auth login` or set HF_TOKEN (a token with "
                       "write access), then push again. Nothing was uploaded.")
    return run, token


def push(run_dir: str | Path, repo: str, token: str | None = None, private: bool = True) -> str:
    """Create the repository (private unless asked) and upload the model folder and its card; its URL."""
    from huggingface_hub import CommitOperationAdd, HfApi
    from . import card
    run, token = check(run_dir, repo, token)
    api = HfApi(token=token)
    try:
        user = api.whoami()["name"]
    except Exception as err:  # no network, a blocked host, a revoked token: nothing has been created yet
        reason = "the token was refused" if "401" in str(err) else "no network connection, or the Hub is blocked"
        raise HubError(f"The Hugging Face Hub cannot be reached ({reason}). Nothing was uploaded.") from None
    repo_id = repo if "/" in repo else f"{user}/{repo}"
    text = card.for_run(run.path).replace('model="path/to/this/folder"', f'model="{repo_id}"')
    operations = [CommitOperationAdd(path_in_repo=path.relative_to(run.model_dir).as_posix(), path_or_fileobj=str(path))
                  for path in sorted(run.model_dir.rglob("*")) if path.is_file() and path.name != card.FILE_NAME]
    operations.append(CommitOperationAdd(path_in_repo=card.FILE_NAME, path_or_fileobj=text.encode("utf-8")))
    try:
        api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        api.create_commit(repo_id, operations, commit_message=f"Model of run {run.id}, trained with the text "
                                                              "classifier studio")
    except Exception as err:
        raise HubError(f"The upload to {repo_id} failed ({type(err).__name__}: {str(err)[:200]}).") from None
    return f"{HUB_URL}/{repo_id}"
