# bash completion for zeroctl (shipped with zeroinit). Enable it with
#   source <(zeroctl completion bash)
# Service names come from the running supervisor (`zeroctl --json list`).

_zeroctl_services() {
    local socket=()
    [ -n "$1" ] && socket=(-s "$1")
    "${COMP_WORDS[0]}" "${socket[@]}" --json --timeout 1 list 2>/dev/null |
        python3 -c 'import json, sys
try:
    print(" ".join(s["name"] for s in json.load(sys.stdin)))
except Exception:
    pass' 2>/dev/null
}

_zeroctl() {
    local cur prev words cword
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    local commands="__COMMANDS__"
    local command="" socket="" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -s|--socket) socket="${COMP_WORDS[i+1]}"; ((i++)) ;;
            --timeout) ((i++)) ;;
            -*) ;;
            *) [ -z "$command" ] && command="${COMP_WORDS[i]}" ;;
        esac
    done
    case "$prev" in
        -s|--socket|-d|--services-dir) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --timeout|-n|--lines|--profile) return ;;
    esac
    if [ -z "$command" ]; then
        COMPREPLY=($(compgen -W "$commands -s --socket --json --timeout --version --help" -- "$cur"))
        return
    fi
    case "$command" in
        check|completion|events|shutdown|list) COMPREPLY=($(compgen -W "--help --json" -- "$cur")) ;;
        signal)
            if [ "$prev" = signal ]; then
                COMPREPLY=($(compgen -W "HUP INT QUIT KILL USR1 USR2 TERM CONT STOP" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_zeroctl_services "$socket")" -- "$cur"))
            fi ;;
        *)
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "--help --json --no-wait --force --follow --lines --clear" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$(_zeroctl_services "$socket")" -- "$cur"))
            fi ;;
    esac
}

complete -F _zeroctl zeroctl
