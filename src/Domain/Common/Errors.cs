namespace FentaWeb.Domain.Common;

/// <summary>One problem with one input field; <see cref="Field"/> is a JSON path such as <c>graph.nodes[2].params.speed</c>.</summary>
public sealed record FieldError(string Field, string Message, string? NodeId = null);

/// <summary>A failure the caller can act on. The API maps each subtype to one HTTP status and a stable code.</summary>
public abstract class FentaException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

public sealed class ValidationFailedException(IReadOnlyList<FieldError> errors)
    : FentaException("VALIDATION_FAILED", Summarize(errors))
{
    public IReadOnlyList<FieldError> Errors { get; } = errors;

    public ValidationFailedException(string field, string message, string? nodeId = null)
        : this([new FieldError(field, message, nodeId)]) { }

    private static string Summarize(IReadOnlyList<FieldError> errors) => errors.Count == 1
        ? $"{errors[0].Field}: {errors[0].Message}"
        : $"{errors.Count} fields are invalid; the first is {errors[0].Field}: {errors[0].Message}";
}

public sealed class NotFoundException(string resource, string id)
    : FentaException("NOT_FOUND", $"No {resource} '{id}' exists in this organization.");

public sealed class UnauthorizedException(string message, string code = "UNAUTHORIZED") : FentaException(code, message)
{
    /// <summary>The WWW-Authenticate challenge to answer with, when the credential itself was missing or wrong.</summary>
    public string? Challenge { get; init; }
}

/// <summary>The caller is known but may not do this; <c>FORBIDDEN</c> unless a more specific code tells them what to do (<c>EMAIL_NOT_VERIFIED</c>).</summary>
public sealed class ForbiddenException(string message, string? requiredScope = null, string? requiredRole = null, string code = "FORBIDDEN")
    : FentaException(code, message)
{
    public string? RequiredScope { get; } = requiredScope;
    public string? RequiredRole { get; } = requiredRole;
}

public sealed class ConflictException(string code, string message) : FentaException(code, message);

/// <summary>Collects field errors and throws them together, so a client sees every problem in one round trip.</summary>
public sealed class FieldErrors
{
    private readonly List<FieldError> _errors = [];

    public bool Any => _errors.Count > 0;
    public IReadOnlyList<FieldError> All => _errors;

    public void Add(string field, string message, string? nodeId = null) => _errors.Add(new FieldError(field, message, nodeId));

    public void ThrowIfAny()
    {
        if (_errors.Count > 0) throw new ValidationFailedException(_errors.ToList());
    }
}
