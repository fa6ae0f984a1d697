"""The studio's REST route: behind the studio's password, any finished run's model, a sentence for each refusal."""
import base64

from fastapi.testclient import TestClient

from studio.ui import rest


def _basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _client(runs_dir, auth=("ana", "open-sesame")):
    gate = rest.RestGate(app=None, api=rest.studio_api(runs_dir, auth))   # nothing else: the gate must answer itself
    return TestClient(gate, client=("127.0.0.1", 5000))


def test_studio_rest_asks_for_the_password_and_answers_with_the_newest_model(tiny_run_dir):
    client = _client(tiny_run_dir.parent)
    refused = client.post("/api/v1/classify", json={"texts": ["great"]})
    assert refused.status_code == 401 and "password" in refused.json()["detail"]
    assert refused.headers["www-authenticate"].startswith("Basic")
    answer = client.post("/api/v1/classify", json={"texts": ["great"]}, headers=_basic("ana", "open-sesame"))
    assert answer.status_code == 200 and answer.json()["model"] == tiny_run_dir.name
    named = client.post("/api/v1/classify", json={"texts": ["great"], "run": tiny_run_dir.name},
                        headers=_basic("ana", "open-sesame"))
    assert named.json()["predictions"] == answer.json()["predictions"]
    missing = client.post("/api/v1/classify", json={"texts": ["x"], "run": "../etc"}, headers=_basic("ana", "open-sesame"))
    assert missing.status_code == 404 and missing.json()["detail"].startswith("No run called")


def test_wrong_passwords_are_limited_whatever_address_is_claimed(tiny_run_dir):
    client = _client(tiny_run_dir.parent)
    codes = [client.post("/api/v1/classify", json={"texts": ["x"]}, auth=("ana", f"guess{i}"),
                         headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
             for i in range(rest.WRONG_PASSWORDS_PER_MINUTE + 2)]
    assert codes == [401] * rest.WRONG_PASSWORDS_PER_MINUTE + [429] * 2


def test_studio_rest_without_runs_says_what_to_do(tmp_path):
    client = _client(tmp_path, auth=None)
    answer = client.post("/api/v1/classify", json={"texts": ["x"]})
    assert answer.status_code == 404 and "train one first" in answer.json()["detail"]
