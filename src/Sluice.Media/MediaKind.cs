namespace Sluice.Media;

public enum MediaKind
{
    Video,
    Audio,
    Subtitle,
    Data,
}
