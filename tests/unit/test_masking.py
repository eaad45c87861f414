import pytest

from spark_tui.core.masking import MASK, is_secret_name, mask_any, mask_argv, mask_env, mask_mapping, mask_text


@pytest.mark.parametrize(
    "name",
    ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY", "NGC_API_KEY", "db-password", "POSTGRES_PASSWORD",
     "clientSecret", "apiKey", "accessToken", "--api-key", "--hf-token", "AWS_SECRET_ACCESS_KEY", "MYSQL_PWD",
     "Authorization", "session_cookie", "HFTOKEN", "LANGFUSE_SECRET", "pass"],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["PATH", "PWD", "OLDPWD", "MODEL", "TOKENIZERS_PARALLELISM", "MAX_NUM_BATCHED_TOKENS", "NVIDIA_VISIBLE_DEVICES",
     "CUDA_VISIBLE_DEVICES", "HOSTNAME", "OLLAMA_KEEP_ALIVE", "max_tokens", "SSH_AUTH_SOCK", "monkey", ""],
)
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


def test_env_list_masks_values_under_secret_names_only() -> None:
    env = ["HF_TOKEN=hf_abcdefghijklmnopqrstuvwx", "PATH=/usr/bin", "OPENAI_API_KEY=", "MODEL=llama", "EMPTY"]
    assert mask_env(env) == [f"HF_TOKEN={MASK}", "PATH=/usr/bin", "OPENAI_API_KEY=", "MODEL=llama", "EMPTY"]


def test_env_values_with_credential_shapes_are_masked_whatever_the_name() -> None:
    env = ["EXTRA=hf_abcdefghijklmnopqrstuvwx", "DATABASE_URL=postgres://app:s3cr3t@db:5432/app"]
    assert mask_env(env) == [f"EXTRA={MASK}", f"DATABASE_URL=postgres://app:{MASK}@db:5432/app"]


def test_argv_masks_the_value_after_a_secret_flag() -> None:
    argv = ["vllm", "serve", "m", "--api-key", "abc", "--port", "8000", "--hf-token=xyz", "--api-key", "--x"]
    assert mask_argv(argv) == ["vllm", "serve", "m", "--api-key", MASK, "--port", "8000", f"--hf-token={MASK}", "--api-key", "--x"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("HF_TOKEN=hf_abcdefghijklmnopqrstuvwx loaded", f"HF_TOKEN={MASK} loaded"),
        ("api_key: abc123, model: x", f"api_key: {MASK}, model: x"),
        ('{"password": "hunter2", "user": "bob"}', f'{{"password": "{MASK}", "user": "bob"}}'),
        ("connect postgres://bob:pw@db:5432/x", f"connect postgres://bob:{MASK}@db:5432/x"),
        ("args: --api-key sk123 --port 8000", f"args: --api-key {MASK} --port 8000"),
        ("Authorization: Bearer abcdefghijkl", f"Authorization: Bearer {MASK}"),
        ("using key sk-proj-abcdefghijklmnopqrstuvwxyz", f"using key {MASK}"),
        ("token nvapi-abcdefghijklmnopqrstuvwxyz0123", f"token {MASK}"),
        ("INFO 12:30:01 served GET http://host:8080/v1/models 200", "INFO 12:30:01 served GET http://host:8080/v1/models 200"),
        ("max_tokens=512 TOKENIZERS_PARALLELISM=false", "max_tokens=512 TOKENIZERS_PARALLELISM=false"),
        ("the token expired", "the token expired"),
        ("", ""),
    ],
)
def test_log_lines(line: str, expected: str) -> None:
    assert mask_text(line) == expected


def test_mask_any_walks_docker_inspect() -> None:
    data = {
        "Id": "abc",
        "Config": {
            "Env": ["HF_TOKEN=x", "A=b"],
            "Cmd": ["serve", "--api-key", "k"],
            "Labels": {"traefik.basicauth.password": "p", "com.docker.compose.service": "web"},
        },
        "HostConfig": {"Memory": 0, "SecretCount": 3},
        "Mounts": [{"Source": "/data"}],
    }
    masked = mask_any(data)
    assert masked["Config"]["Env"] == [f"HF_TOKEN={MASK}", "A=b"]
    assert masked["Config"]["Cmd"] == ["serve", "--api-key", MASK]
    assert masked["Config"]["Labels"] == {"traefik.basicauth.password": MASK, "com.docker.compose.service": "web"}
    assert masked["HostConfig"] == {"Memory": 0, "SecretCount": MASK}
    assert masked["Mounts"] == [{"Source": "/data"}]
    assert data["Config"]["Env"] == ["HF_TOKEN=x", "A=b"], "the input is not modified"


def test_mask_mapping_of_compose_environment() -> None:
    assert mask_mapping({"HF_TOKEN": "x", "MODEL": "m", "PORT": 8000}) == {"HF_TOKEN": MASK, "MODEL": "m", "PORT": 8000}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("env: TOKEN=abc", "env: TOKEN=****"),
        ("config: HF_TOKEN=hf_x", "config: HF_TOKEN=****"),
        ("labels: password=hunter2", "labels: password=****"),
        ("x=TOKEN=abc", "x=TOKEN=****"),
        ("Environment: DB_PASSWORD=s3cr3t other=1", "Environment: DB_PASSWORD=**** other=1"),
        ('name: "TOKEN=abc"', 'name: "TOKEN=****"'),
        ("--env API_KEY=abc", "--env API_KEY=****"),
        ("x=y=SECRET=z", "x=y=SECRET=****"),
        ("a=b=c", "a=b=c"),
        ("at: 12:30:45", "at: 12:30:45"),
    ],
)
def test_an_assignment_inside_a_harmless_names_value_is_masked(line: str, expected: str) -> None:
    # the harmless name's match swallows the whole "TOKEN=abc" as its value: it is looked into
    assert mask_text(line) == expected
